import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../src/postgres.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  const created: TestDatabase[] = [];

  afterEach(async () => {
    await Promise.all(created.splice(0).map((db) => db.drop()));
  });

  it('gives each caller its own empty, writable database and drops it', async () => {
    const a = await createTestDatabase('Testing Lib!');
    const b = await createTestDatabase('Testing Lib!');
    created.push(a, b);

    expect(a.name).not.toBe(b.name);
    expect(a.name).toMatch(/^testing_lib_[a-z0-9_]+$/);
    expect((await query<{ db: string }>(a.url, 'SELECT current_database() AS db'))[0]?.db).toBe(a.name);

    await query(a.url, 'CREATE TABLE jobs (id int PRIMARY KEY); INSERT INTO jobs VALUES (1)');
    const tablesInB = await query(b.url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'jobs'");
    expect(tablesInB).toHaveLength(0);

    await a.drop();
    await expect(query(a.url, 'SELECT 1')).rejects.toMatchObject({ code: '3D000' });
    await a.drop();
  });

  it('drops a database that a leaked connection still holds', async () => {
    const db = await createTestDatabase('leak');
    created.push(db);
    const leaked = new pg.Client({ connectionString: db.url });
    leaked.on('error', () => undefined);
    await leaked.connect();

    await db.drop();
    await expect(query(db.url, 'SELECT 1')).rejects.toMatchObject({ code: '3D000' });
    await leaked.end().catch(() => undefined);
  });
});
