import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createPostgres, migrate, startRetention, startTelemetry, type Postgres, type Telemetry } from '@runnerhub/platform';
import { createTestDatabase, type TestDatabase } from '@runnerhub/testing';
import { poolManagerRetention } from '../src/retention.js';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('pool-manager: runner history retention', () => {
  let testDb: TestDatabase;
  let db: Postgres;
  let telemetry: Telemetry;

  beforeAll(async () => {
    testDb = await createTestDatabase('pool_manager_retention');
    db = createPostgres({ url: testDb.url, schema: 'pool_manager', poolMax: 2, applicationName: 'test', log });
    await migrate(db, fileURLToPath(new URL('../migrations/', import.meta.url)), log);
    telemetry = startTelemetry({ serviceName: 'pool-manager-retention-test' });
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await db?.close();
    await testDb?.drop();
  });

  it('deletes runners that ended longer ago than RETENTION_DAYS and never a live one, however old', async () => {
    const runner = (name: string, state: string, daysAgo: number) =>
      db.pool.query(`INSERT INTO runners (id, name, pool, host, state, requested_at) VALUES ($1, $1, 'small', 'local', $2, now() - make_interval(days => $3))`, [
        name,
        state,
        daysAgo,
      ]);
    await runner('removed-old', 'removed', 31);
    await runner('failed-old', 'failed', 40);
    await runner('finished-old', 'finished', 90);
    await runner('removed-recent', 'removed', 29);
    // A runner that has waited for a job for 40 days (a warm runner of a quiet pool) is still in use.
    await runner('idle-old', 'idle', 40);
    await runner('busy-old', 'busy', 40);

    const retention = startRetention({ db: db.pool, rules: poolManagerRetention(30), meter: telemetry.meter, log, firstRunMs: 3_600_000 });
    try {
      expect(await retention.runNow()).toEqual({ runners: 3 });
    } finally {
      await retention.stop();
    }
    const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM runners ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(['busy-old', 'idle-old', 'removed-recent']);
  });
});
