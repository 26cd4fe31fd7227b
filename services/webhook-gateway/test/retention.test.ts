import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createPostgres, migrate, startRetention, startTelemetry, type Postgres, type Telemetry } from '@runnerhub/platform';
import { createTestDatabase, type TestDatabase } from '@runnerhub/testing';
import { gatewayRetention } from '../src/retention.js';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('webhook-gateway: delivery history retention', () => {
  let testDb: TestDatabase;
  let db: Postgres;
  let telemetry: Telemetry;

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_retention');
    db = createPostgres({ url: testDb.url, schema: 'gateway', poolMax: 2, applicationName: 'test', log });
    await migrate(db, fileURLToPath(new URL('../migrations/', import.meta.url)), log);
    telemetry = startTelemetry({ serviceName: 'gateway-retention-test' });
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await db?.close();
    await testDb?.drop();
  });

  it('deletes deliveries received, and redeliveries last asked for, longer ago than RETENTION_DAYS', async () => {
    const delivery = (guid: string, outcome: string, daysAgo: number) =>
      db.pool.query(`INSERT INTO deliveries (guid, event, outcome, received_at) VALUES ($1, 'workflow_job', $2, now() - make_interval(days => $3))`, [guid, outcome, daysAgo]);
    const redelivery = (guid: string, daysAgo: number) =>
      db.pool.query(`INSERT INTO redeliveries (guid, github_delivery_id, event, requested_at) VALUES ($1, 1, 'workflow_job', now() - make_interval(days => $2))`, [guid, daysAgo]);
    await delivery('old-published', 'published', 8);
    await delivery('old-failed', 'failed', 30);
    await delivery('recent', 'published', 6);
    await redelivery('old-failed', 8);
    await redelivery('recent-ask', 1);

    const retention = startRetention({ db: db.pool, rules: gatewayRetention(7), meter: telemetry.meter, log, firstRunMs: 3_600_000 });
    try {
      expect(await retention.runNow()).toEqual({ deliveries: 2, redeliveries: 1 });
    } finally {
      await retention.stop();
    }
    const guids = async (table: string) => (await db.pool.query<{ guid: string }>(`SELECT guid FROM ${table} ORDER BY guid`)).rows.map((r) => r.guid);
    expect(await guids('deliveries')).toEqual(['recent']);
    expect(await guids('redeliveries')).toEqual(['recent-ask']);
  });
});
