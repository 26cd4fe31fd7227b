import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_DATABASE_ADMIN_URL } from './infra.js';

export interface TestDatabase {
  /** Connection URL of the new database, same credentials as the admin URL. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, closing any connection a test left open. Safe to call twice. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** A role with CREATEDB; TEST_DATABASE_ADMIN_URL by default. */
  adminUrl?: string;
}

/**
 * Creates a uniquely named, empty database on the shared server, so test files can run migrations
 * and write freely without seeing each other.
 */
export async function createTestDatabase(prefix: string, options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = options.adminUrl ?? TEST_DATABASE_ADMIN_URL;
  const name = databaseName(prefix);
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      // WITH (FORCE): a leaked pool in a failed test must not keep the database alive.
      await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}

// Lower-case letters, digits and "_" only, and within Postgres' 63-byte identifier limit.
function databaseName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 40) || 'test';
  return `${clean}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
