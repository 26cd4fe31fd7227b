import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTcpProxy } from '@runnerhub/testing';
import { createLogger } from '../src/logging.js';
import { createPostgres, migrate } from '../src/postgres.js';
import { RUNNERHUB_VERSION } from '../src/version.js';

const log = createLogger({ service: 't', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('postgres migrations', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('migrate');
    dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    await writeFile(join(dir, '001_jobs.sql'), 'CREATE TABLE jobs (id bigint PRIMARY KEY, status text NOT NULL);');
    await writeFile(join(dir, '002_jobs_pool.sql'), 'ALTER TABLE jobs ADD COLUMN pool text;');
    await writeFile(join(dir, 'README.md'), 'not a migration');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await db.drop();
  });

  it('applies migrations once, in order, into the service schema, even when two replicas start together', async () => {
    const a = createPostgres({ url: db.url, schema: 'svc_a', poolMax: 2, applicationName: 't', log });
    const b = createPostgres({ url: db.url, schema: 'svc_a', poolMax: 2, applicationName: 't', log });
    const [ra, rb] = await Promise.all([migrate(a, dir, log), migrate(b, dir, log)]);
    expect([...ra.applied, ...rb.applied].sort()).toEqual(['001_jobs.sql', '002_jobs_pool.sql']);
    await a.pool.query("INSERT INTO jobs (id, status, pool) VALUES (1, 'queued', 'small')");
    const { rows } = await a.pool.query<{ table_schema: string }>("SELECT table_schema FROM information_schema.tables WHERE table_name = 'jobs'");
    expect(rows.map((r) => r.table_schema)).toEqual(['svc_a']);
    expect((await migrate(a, dir, log)).applied).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const c = createPostgres({ url: db.url, schema: 'svc_b', poolMax: 1, applicationName: 't', log });
    await migrate(c, dir, log);
    await writeFile(join(dir, '001_jobs.sql'), 'CREATE TABLE jobs (id bigint PRIMARY KEY);');
    await expect(migrate(c, dir, log)).rejects.toThrow(/001_jobs.sql in schema svc_b changed after it was applied/);
    await c.close();
  });

  it('refuses a schema that a newer RunnerHub migrated, naming both versions, and changes nothing', async () => {
    const older = await mkdtemp(join(tmpdir(), 'migrations-older-'));
    await writeFile(join(older, '001_jobs.sql'), 'CREATE TABLE jobs (id bigint PRIMARY KEY);');
    await writeFile(join(older, '002_jobs_pool.sql'), 'ALTER TABLE jobs ADD COLUMN pool text;');
    const newer = await mkdtemp(join(tmpdir(), 'migrations-newer-'));
    await cp(older, newer, { recursive: true });
    await writeFile(join(newer, '003_jobs_host.sql'), 'ALTER TABLE jobs ADD COLUMN host text;');
    const e = createPostgres({ url: db.url, schema: 'svc_e', poolMax: 1, applicationName: 't', log });
    await migrate(e, newer, log);
    // As the next release would have recorded it.
    await e.pool.query("UPDATE svc_e.schema_migrations SET runnerhub_version = '9.1.0' WHERE version = '003_jobs_host.sql'");
    const before = (await e.pool.query('SELECT version, checksum FROM svc_e.schema_migrations ORDER BY version')).rows;
    // Then the older release starts against it (a downgrade, or an old replica).
    await expect(migrate(e, older, log)).rejects.toThrow(
      `the database schema svc_e is at migration 003_jobs_host.sql (applied by RunnerHub 9.1.0), newer than this RunnerHub ${RUNNERHUB_VERSION} knows (its last migration is 002_jobs_pool.sql)`,
    );
    expect((await e.pool.query('SELECT version, checksum FROM svc_e.schema_migrations ORDER BY version')).rows).toEqual(before);
    await e.close();
    await Promise.all([rm(older, { recursive: true, force: true }), rm(newer, { recursive: true, force: true })]);
  });

  it('records the RunnerHub version that applied each migration', async () => {
    const f = createPostgres({ url: db.url, schema: 'svc_f', poolMax: 1, applicationName: 't', log });
    await migrate(f, dir, log);
    const { rows } = await f.pool.query<{ runnerhub_version: string }>('SELECT DISTINCT runnerhub_version FROM svc_f.schema_migrations');
    expect(rows.map((r) => r.runnerhub_version)).toEqual([RUNNERHUB_VERSION]);
    await f.close();
  });

  it('rolls back a failing migration and names it', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'migrations-bad-'));
    await writeFile(join(bad, '001_ok.sql'), 'CREATE TABLE a (id int);');
    await writeFile(join(bad, '002_broken.sql'), 'CREATE TABLE b (id int); SELECT nope FROM nowhere;');
    const d = createPostgres({ url: db.url, schema: 'svc_c', poolMax: 1, applicationName: 't', log });
    await expect(migrate(d, bad, log)).rejects.toThrow(/migration 002_broken.sql failed/);
    const { rows } = await d.pool.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'svc_c' AND table_name = 'b'");
    expect(rows[0].n).toBe(0);
    await d.close();
    await rm(bad, { recursive: true, force: true });
  });
});

describe('postgres connection lost', () => {
  it('a checked-out client whose connection resets between two queries fails its next query instead of crashing the process', async () => {
    const db = await createTestDatabase('reset');
    const link = await startTcpProxy({ targetHost: new URL(db.url).hostname, targetPort: Number(new URL(db.url).port || 5432) });
    const postgres = createPostgres({ url: link.rewriteUrl(db.url), schema: 'svc_reset', poolMax: 2, applicationName: 't', log });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    // vitest reports uncaught errors as failures of the run; this listener sees them first.
    process.prependListener('uncaughtException', onUncaught);
    try {
      const client = await postgres.pool.connect();
      await client.query('BEGIN');
      // The server goes away while the transaction's owner awaits something else (NATS, say).
      await link.cut();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release();
      await link.restore();
      // The pool dropped the broken client and serves again.
      expect((await postgres.pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await postgres.close();
      await link.close();
      await db.drop();
    }
  });
});
