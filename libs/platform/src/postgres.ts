import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from './logging.js';
import { RUNNERHUB_VERSION } from './version.js';

/**
 * One pool per service, pinned to the service's own schema (one owner per table), and forward-only
 * SQL migrations applied at start under an advisory lock so replicas can start together.
 */

export interface Postgres {
  pool: pg.Pool;
  schema: string;
  /** Readiness probe: one round trip. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresSettings {
  url: string;
  schema: string;
  poolMax: number;
  applicationName: string;
  log: Logger;
}

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it
 * throws (the error is rethrown; a failed ROLLBACK is not allowed to hide it). The one BEGIN/COMMIT
 * in the code base: services call this instead of writing their own.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A query slower than this is treated as a dead server by callers; keeps shutdown and probes bounded. */
const STATEMENT_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 3_000;

export function createPostgres(s: PostgresSettings): Postgres {
  assertIdentifier(s.schema);
  const pool = new pg.Pool({
    connectionString: s.url,
    max: s.poolMax,
    application_name: s.applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    options: `-c search_path=${s.schema},public`,
  });
  // An idle client whose server went away emits here; without a listener the process would crash.
  let reported = false;
  pool.on('error', (err) => {
    if (!reported) s.log.warn({ err: err.message }, 'postgres connection lost');
    reported = true;
  });
  pool.on('connect', (client) => {
    reported = false;
    // pg-pool listens for errors only on idle clients: a checked-out one whose connection resets
    // between two queries (an outbox relay awaiting NATS inside its transaction, say) emits 'error'
    // with no listener and crashes the process. Its next query rejects anyway, and the pool drops
    // the broken client on release; found by the "Postgres unreachable 20 s" fault test.
    client.on('error', (err) => {
      if (!reported) s.log.warn({ err: err.message }, 'postgres connection lost');
      reported = true;
    });
  });
  return {
    pool,
    schema: s.schema,
    async check() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies `NNN_name.sql` files from `dir` in order, each in its own transaction, recording them in
 * `<schema>.schema_migrations` with the RunnerHub version that applied them. An already-applied file
 * whose content changed is an error: migrations are forward-only, so a fix is a new file. A schema
 * that has a migration this code does not know was made by a newer RunnerHub: the service refuses
 * to start against it (naming both versions) rather than run on tables it does not understand.
 */
export async function migrate(db: Postgres, dir: string, log: Logger): Promise<MigrationResult> {
  const files = (await readdir(dir).catch(noDirectory)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  const client = await db.pool.connect();
  const lockKey = `runnerhub.migrations.${db.schema}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${db.schema}.schema_migrations (
         version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    // Since RunnerHub 0.2.0; older rows have none.
    await client.query(`ALTER TABLE ${db.schema}.schema_migrations ADD COLUMN IF NOT EXISTS runnerhub_version text`);
    const rows = (await client.query<{ version: string; checksum: string; runnerhub_version: string | null }>(`SELECT version, checksum, runnerhub_version FROM ${db.schema}.schema_migrations`)).rows;
    refuseNewerSchema(db.schema, files, rows);
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    const applied: string[] = [];
    for (const file of files) {
      const sql = await readFile(join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = done.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) throw new Error(`migration ${file} in schema ${db.schema} changed after it was applied; add a new migration instead`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path TO ${db.schema}, public`);
        await client.query(sql);
        await client.query(`INSERT INTO ${db.schema}.schema_migrations (version, checksum, runnerhub_version) VALUES ($1, $2, $3)`, [file, checksum, RUNNERHUB_VERSION]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(file);
      log.info({ schema: db.schema, migration: file }, 'migration applied');
    }
    return { applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    client.release();
  }
}

/** Throws when the schema holds migrations this code does not have (a newer RunnerHub made them). */
function refuseNewerSchema(schema: string, files: readonly string[], applied: ReadonlyArray<{ version: string; runnerhub_version: string | null }>): void {
  const known = new Set(files);
  const unknown = applied.filter((r) => !known.has(r.version)).sort((a, b) => a.version.localeCompare(b.version));
  const newest = unknown.at(-1);
  if (!newest) return;
  const by = newest.runnerhub_version ? `RunnerHub ${newest.runnerhub_version}` : 'a newer RunnerHub';
  throw new Error(
    `the database schema ${schema} is at migration ${newest.version} (applied by ${by}), newer than this RunnerHub ${RUNNERHUB_VERSION} knows ` +
      `(its last migration is ${files.at(-1) ?? 'none'}): run ${newest.runnerhub_version ? `RunnerHub ${newest.runnerhub_version}` : 'the newer release'} or later, ` +
      `or restore the backup taken before the upgrade (docs/operations.md "Upgrading")`,
  );
}

/** A service with no migrations yet has no folder; that is not an error. */
function noDirectory(err: NodeJS.ErrnoException): string[] {
  if (err.code === 'ENOENT') return [];
  throw err;
}

function assertIdentifier(name: string) {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`"${name}" is not a valid schema name`);
}
