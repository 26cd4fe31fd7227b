import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createPostgres, migrate, type Postgres } from '@runnerhub/platform';
import { createTestDatabase, startTcpProxy, type TestDatabase } from '@runnerhub/testing';
import { deliveriesStore } from '../src/deliveries.js';
import { createDeliveryLog } from '../src/delivery-log.js';
import { createRecentDeliveries } from '../src/recent-deliveries.js';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const rec = (guid: string, outcome: 'published' | 'failed' | 'ignored') => ({
  guid,
  event: 'workflow_job',
  action: 'queued',
  installationId: 7n,
  hookId: '1',
  receivedAt: new Date(),
  outcome,
  ...(outcome === 'failed' ? { error: 'nats down' } : { subject: 'gh.workflow_job.queued', streamSeq: 3 }),
});

describe('delivery log', () => {
  let testDb: TestDatabase;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let db: Postgres;

  beforeAll(async () => {
    testDb = await createTestDatabase('delivery_log');
    const u = new URL(testDb.url);
    proxy = await startTcpProxy({ targetHost: u.hostname, targetPort: Number(u.port || 5432) });
    u.port = String(proxy.port);
    db = createPostgres({ url: u.toString(), schema: 'gateway', poolMax: 2, applicationName: 'test', log });
    await migrate(db, fileURLToPath(new URL('../migrations/', import.meta.url)), log);
  });
  afterAll(async () => {
    await db?.close();
    await proxy?.close();
    await testDb?.drop();
  });

  it('batches rows, and a late failure never undoes a success', async () => {
    const store = deliveriesStore(db.pool);
    const dl = createDeliveryLog(store, log);
    dl.record(rec('a', 'failed'));
    dl.record(rec('a', 'published'));
    dl.record(rec('b', 'published'));
    await dl.flush();
    dl.record(rec('b', 'failed'));
    await dl.stop();
    expect((await store.get('a'))?.outcome).toBe('published');
    expect(await store.get('b')).toMatchObject({ outcome: 'published', attempts: 2, installationId: '7' });
    expect(await store.handledSince(new Date(Date.now() - 60_000), 10)).toEqual(expect.arrayContaining(['a', 'b']));
  });

  it('keeps rows while Postgres is away and writes them when it returns', async () => {
    const store = deliveriesStore(db.pool);
    const dl = createDeliveryLog(store, log);
    await proxy.cut();
    dl.record(rec('during-outage', 'published'));
    await dl.flush();
    await proxy.restore();
    await dl.stop();
    expect((await store.get('during-outage'))?.outcome).toBe('published');
  });

  it('remembers the newest GUIDs and forgets the oldest past its capacity', () => {
    const recent = createRecentDeliveries(2);
    recent.add('1');
    recent.add('2');
    recent.add('1');
    recent.add('3');
    expect([recent.has('1'), recent.has('2'), recent.has('3'), recent.size()]).toEqual([true, false, true, 2]);
  });
});
