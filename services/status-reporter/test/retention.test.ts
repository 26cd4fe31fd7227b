import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createPostgres, migrate, startRetention, startTelemetry, type Postgres, type Telemetry } from '@runnerhub/platform';
import { createTestDatabase, type TestDatabase } from '@runnerhub/testing';
import { statusReporterRetention } from '../src/retention.js';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('status-reporter: retention', () => {
  let testDb: TestDatabase;
  let db: Postgres;
  let telemetry: Telemetry;

  beforeAll(async () => {
    testDb = await createTestDatabase('status_reporter_retention');
    db = createPostgres({ url: testDb.url, schema: 'status_reporter', poolMax: 2, applicationName: 'test', log });
    await migrate(db, fileURLToPath(new URL('../migrations/', import.meta.url)), log);
    telemetry = startTelemetry({ serviceName: 'status-reporter-retention-test' });
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await db?.close();
    await testDb?.drop();
  });

  it('forgets job and runner state a week after its last fact, and reports RETENTION_DAYS after GitHub got them', async () => {
    const job = (id: number, status: string, daysAgo: number) =>
      db.pool.query(
        `INSERT INTO jobs (job_id, installation_id, repo_owner, repo_name, head_sha, job_name, workflow_name, labels, html_url, status, updated_at)
         VALUES ($1, 1, 'o', 'r', 'sha', 'build', 'ci', '{}', '', $2, now() - make_interval(days => $3))`,
        [id, status, daysAgo],
      );
    const runner = (name: string, daysAgo: number) =>
      db.pool.query(`INSERT INTO runners (runner_name, pool, host, updated_at) VALUES ($1, 'small', 'local', now() - make_interval(days => $2))`, [name, daysAgo]);
    const report = (jobId: number, state: string, daysAgo: number) =>
      db.pool.query(
        `INSERT INTO reports (job_id, kind, installation_id, repo_owner, repo_name, head_sha, name, external_id, details, output, content_hash, state, updated_at)
         VALUES ($1, 'unmatched', 1, 'o', 'r', 'sha', 'RunnerHub', $4, '{}', '{}', 'h', $2, now() - make_interval(days => $3))`,
        [jobId, state, daysAgo, String(jobId)],
      );
    await job(1, 'completed', 8);
    await job(2, 'completed', 6);
    await job(3, 'queued', 8);
    await job(4, 'queued', 36);
    await runner('old', 8);
    await runner('recent', 6);
    await report(11, 'sent', 31);
    await report(12, 'failed', 31);
    await report(13, 'sent', 29);
    // Not yet on GitHub: a report still being sent is never forgotten.
    await report(14, 'pending', 31);

    const retention = startRetention({ db: db.pool, rules: statusReporterRetention(30), meter: telemetry.meter, log, firstRunMs: 3_600_000 });
    try {
      expect(await retention.runNow()).toEqual({ jobs: 2, runners: 1, reports: 2 });
    } finally {
      await retention.stop();
    }
    const column = async (sql: string) => (await db.pool.query<{ v: string }>(sql)).rows.map((r) => String(r.v));
    expect(await column('SELECT job_id AS v FROM jobs ORDER BY job_id')).toEqual(['2', '3']);
    expect(await column('SELECT runner_name AS v FROM runners')).toEqual(['recent']);
    expect(await column('SELECT job_id AS v FROM reports ORDER BY job_id')).toEqual(['13', '14']);
  });
});
