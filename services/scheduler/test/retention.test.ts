import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createPostgres, migrate, startRetention, startTelemetry, type Postgres, type Telemetry } from '@runnerhub/platform';
import { createTestDatabase, type TestDatabase } from '@runnerhub/testing';
import { schedulerRetention } from '../src/retention.js';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('scheduler: job history retention', () => {
  let testDb: TestDatabase;
  let db: Postgres;
  let telemetry: Telemetry;

  beforeAll(async () => {
    testDb = await createTestDatabase('scheduler_retention');
    db = createPostgres({ url: testDb.url, schema: 'scheduler', poolMax: 2, applicationName: 'test', log });
    await migrate(db, fileURLToPath(new URL('../migrations/', import.meta.url)), log);
    telemetry = startTelemetry({ serviceName: 'scheduler-retention-test' });
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await db?.close();
    await testDb?.drop();
  });

  it('deletes completed jobs first seen longer ago than RETENTION_DAYS, with their transitions; an unfinished job only once GitHub has ended its run', async () => {
    const job = async (id: number, status: string, daysAgo: number) => {
      await db.pool.query(`INSERT INTO jobs (job_id, run_id, status, match, first_seen_at) VALUES ($1, 1, $2, 'matched', now() - make_interval(days => $3))`, [id, status, daysAgo]);
      await db.pool.query(`INSERT INTO job_transitions (job_id, transition) VALUES ($1, 'queued')`, [id]);
    };
    await job(1, 'completed', 31);
    await job(2, 'completed', 29);
    // GitHub cancels a workflow run after 35 days: a job still queued after that will never run.
    await job(3, 'queued', 36);
    // Older than RETENTION_DAYS but within those 35 days: it may still run, so it stays.
    await job(4, 'queued', 33);
    await job(5, 'in_progress', 1);

    const retention = startRetention({ db: db.pool, rules: schedulerRetention(30), meter: telemetry.meter, log, firstRunMs: 3_600_000 });
    try {
      expect(await retention.runNow()).toEqual({ jobs: 2 });
    } finally {
      await retention.stop();
    }
    const ids = async (table: string) => (await db.pool.query<{ job_id: string }>(`SELECT job_id FROM ${table} ORDER BY job_id`)).rows.map((r) => Number(r.job_id));
    expect(await ids('jobs')).toEqual([2, 4, 5]);
    expect(await ids('job_transitions')).toEqual([2, 4, 5]);
  });
});
