import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, parsePrometheusText, sampleValue, type TestDatabase } from '@runnerhub/testing';
import { createLogger } from '../src/logging.js';
import { createPostgres, type Postgres } from '../src/postgres.js';
import { startRetention } from '../src/retention.js';
import { startTelemetry, type Telemetry } from '../src/telemetry.js';

const log = createLogger({ service: 't', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('row retention', () => {
  let testDb: TestDatabase;
  let db: Postgres;
  let telemetry: Telemetry;

  beforeAll(async () => {
    testDb = await createTestDatabase('retention');
    db = createPostgres({ url: testDb.url, schema: 'public', poolMax: 2, applicationName: 't', log });
    telemetry = startTelemetry({ serviceName: 'retention-test' });
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await db?.close();
    await testDb?.drop();
  });

  const scrape = async () => {
    const server = createServer((req, res) => telemetry.serveMetrics(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      return parsePrometheusText(await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text());
    } finally {
      server.close();
    }
  };

  it('deletes every expired row in batches, keeps the rest, and counts what it deleted by table', async () => {
    await db.pool.query(`CREATE TABLE events (id int PRIMARY KEY, state text NOT NULL, at timestamptz NOT NULL)`);
    // 23 ended and old (more than four batches of 5), 4 ended and recent, 3 old but still live.
    await db.pool.query(`INSERT INTO events SELECT g, 'ended', now() - interval '40 days' FROM generate_series(1, 23) g`);
    await db.pool.query(`INSERT INTO events SELECT g, 'ended', now() - interval '1 day' FROM generate_series(101, 104) g`);
    await db.pool.query(`INSERT INTO events SELECT g, 'live', now() - interval '40 days' FROM generate_series(201, 203) g`);
    const retention = startRetention({
      db: db.pool,
      rules: [
        { table: 'events', where: `state = 'ended' AND at < now() - make_interval(days => $1)`, params: [30] },
        // A rule that fails (here: no such table) is reported and does not stop the others.
        { table: 'no_such_table', where: 'true' },
      ],
      meter: telemetry.meter,
      log,
      batchSize: 5,
      firstRunMs: 3_600_000,
    });
    try {
      const [a, b] = await Promise.all([retention.runNow(), retention.runNow()]);
      expect(a).toBe(b);
      expect(a).toEqual({ events: 23 });
      const { rows } = await db.pool.query<{ id: number }>('SELECT id FROM events ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual([101, 102, 103, 104, 201, 202, 203]);
      expect(await retention.runNow()).toEqual({ events: 0 });
      const samples = await scrape();
      expect(sampleValue(samples, 'runnerhub_retention_deleted_rows_total', { table: 'events' })).toBe(23);
      expect(sampleValue(samples, 'runnerhub_retention_failures_total', { table: 'no_such_table' })).toBe(2);
    } finally {
      await retention.stop();
    }
  });
});
