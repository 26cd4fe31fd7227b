import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateHeaderValue } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sign } from '@octokit/webhooks-methods';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };
import { contractsCodec, streamDefinitions, type SubjectMessages } from '@runnerhub/contracts';
import {
  connectNats,
  createHttpServer,
  createLogger,
  createPostgres,
  createReadiness,
  ensureStreams,
  migrate,
  startTelemetry,
  type HttpServer,
  type Postgres,
} from '@runnerhub/platform';
import { createTestDatabase, startNatsServer, type NatsServer, type TestDatabase } from '@runnerhub/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { deliveriesStore } from '../src/deliveries.js';
import { createDeliveryLog, type DeliveryLog } from '../src/delivery-log.js';
import { createPipelinedPublisher, type PipelinedPublisher } from '../src/pipelined-publisher.js';
import { createRecentDeliveries } from '../src/recent-deliveries.js';
import { registerDeliveryRoutes } from '../src/http.js';
import { registerWebhookIntake } from '../src/intake.js';
import { intakeMetrics } from '../src/metrics.js';
import { oddDelivery } from './odd-fields.js';

const SECRET = 'current-webhook-secret';
const PREVIOUS = 'previous-webhook-secret';
const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
type Example = { name: string; examples: Array<Record<string, unknown>> };
const jobExamples = (examples as unknown as Example[]).find((e) => e.name === 'workflow_job')!.examples;
/** Below the gateway's body limit here (64 KiB), so a body can fit the gateway and not NATS. */
const NATS_MAX_PAYLOAD = 48 * 1024;

describe('POST /webhooks/github', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let testDb: TestDatabase;
  let db: Postgres;
  let app: HttpServer;
  let deliveryLog: DeliveryLog;
  let publisher: PipelinedPublisher<SubjectMessages>;
  let secrets: readonly [string, ...string[]] = [SECRET, PREVIOUS];
  let guid = 0;

  let base: string;
  let disconnects = 0;

  const stored = async () => (await jsm.streams.info('GITHUB')).state.messages;
  /**
   * Production requests take the raw handler in front of fastify (they come over the socket);
   * `inject()` reaches the fastify route. Both must answer the same.
   */
  type Transport = 'socket' | 'inject';
  const send = async (via: Transport, payload: string, headers: Record<string, string>): Promise<{ statusCode: number; body: string; json<T = Record<string, unknown>>(): T }> => {
    if (via === 'inject') return app.inject({ method: 'POST', url: '/webhooks/github', payload, headers });
    const res = await fetch(`${base}/webhooks/github`, { method: 'POST', body: payload, headers });
    const body = await res.text();
    return { statusCode: res.status, body, json: <T,>() => JSON.parse(body) as T };
  };
  const post = async (o: { body: string; secret?: string; event?: string; delivery?: string; headers?: Record<string, string>; via?: Transport }) =>
    send(o.via ?? 'inject', o.body, {
      'content-type': 'application/json',
      'x-github-event': o.event ?? 'workflow_job',
      'x-github-delivery': o.delivery ?? `guid-${++guid}`,
      'x-github-hook-id': '42',
      'x-hub-signature-256': await sign(o.secret ?? SECRET, o.body),
      ...o.headers,
    });

  beforeAll(async () => {
    const conf = join(mkdtempSync(join(tmpdir(), 'gateway-nats-')), 'nats.conf');
    writeFileSync(conf, `max_payload: ${NATS_MAX_PAYLOAD}\n`);
    nats = await startNatsServer({ args: ['-c', conf] });
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await ensureStreams(nc, Object.values(streamDefinitions));
    jsm = await jetstreamManager(nc);
    void (async () => {
      for await (const st of nc.status()) if (st.type === 'disconnect') disconnects++;
    })();
    testDb = await createTestDatabase('gateway');
    db = createPostgres({ url: testDb.url, schema: 'gateway', poolMax: 4, applicationName: 'test', log });
    await migrate(db, fileURLToPath(new URL('../migrations/', import.meta.url)), log);
    const telemetry = startTelemetry({ serviceName: 'gateway-test' });
    const readiness = createReadiness(log, { intervalMs: 60_000 });
    app = await createHttpServer({ service: 'webhook-gateway', log, readiness, telemetry, adminTokens: [{ name: 't', scope: 'read', token: 'read-token-0123456789' }] });
    const deliveries = deliveriesStore(db.pool);
    deliveryLog = createDeliveryLog(deliveries, log);
    // The publisher main.ts wires in: many publishes in flight on one reply subscription.
    publisher = createPipelinedPublisher<SubjectMessages>(nc, contractsCodec, { timeoutMs: 2_000, log });
    registerWebhookIntake(app, {
      publisher,
      recent: createRecentDeliveries(1000),
      deliveryLog,
      secrets: () => secrets,
      metrics: intakeMetrics(telemetry.meter),
      log,
      bodyLimitBytes: 64 * 1024,
    });
    registerDeliveryRoutes(app, deliveries);
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await deliveryLog?.stop();
    await publisher?.close();
    await nc?.close();
    await nats?.stop();
    await db?.close();
    await testDb?.drop();
  });

  beforeEach(() => {
    secrets = [SECRET, PREVIOUS];
  });

  it('accepts every workflow_job example signed the real way, one message each, typed', async () => {
    const before = await stored();
    for (const example of jobExamples) {
      const res = await post({ body: JSON.stringify(example) });
      expect(res.statusCode, res.body).toBe(202);
    }
    expect(await stored()).toBe(before + jobExamples.length);
    const last = (await jsm.streams.getMessage('GITHUB', { last_by_subj: `gh.workflow_job.${String(jobExamples.at(-1)!.action)}` }))!;
    const decoded = contractsCodec.decode(last.subject, last.data, last.header.get('rh-schema')) as SubjectMessages['gh.workflow_job.x'];
    expect(decoded.jobId).toBe(BigInt((jobExamples.at(-1)!.workflow_job as { id: number }).id));
    expect(JSON.parse(Buffer.from(decoded.delivery!.payload).toString())).toEqual(jobExamples.at(-1));
  });

  it('publishes the same GUID once, and two GUIDs for the same job twice', async () => {
    const body = JSON.stringify(jobExamples[0]);
    const before = await stored();
    expect((await post({ body, delivery: 'same-guid', via: 'socket' })).statusCode).toBe(202);
    const replay = await post({ body, delivery: 'same-guid' });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ status: 'duplicate' });
    expect((await post({ body, delivery: 'same-guid', via: 'socket' })).json()).toMatchObject({ status: 'duplicate' });
    expect((await post({ body, delivery: 'other-guid', via: 'socket' })).statusCode).toBe(202);
    expect(await stored()).toBe(before + 2);
    await deliveryLog.flush();
    const row = await app.inject({ url: '/api/deliveries/same-guid', headers: { authorization: 'Bearer read-token-0123456789' } });
    expect(row.json()).toMatchObject({ guid: 'same-guid', event: 'workflow_job', outcome: 'published', installationId: null });
  });

  it('answers concurrent deliveries each by its own PubAck, and a GUID raced against itself once 202 and once 200', async () => {
    const body = JSON.stringify(jobExamples[0]);
    const before = await stored();
    const guids = Array.from({ length: 50 }, (_, i) => `concurrent-${i}`);
    const answers = await Promise.all([
      ...guids.map((delivery, i) => post({ body, delivery, via: i % 2 ? 'socket' : 'inject' })),
      post({ body, delivery: 'raced-guid', via: 'socket' }),
      post({ body, delivery: 'raced-guid', via: 'socket' }),
    ]);
    expect(answers.slice(0, guids.length).map((r) => r.statusCode)).toEqual(guids.map(() => 202));
    expect(answers.slice(0, guids.length).map((r) => r.json<{ delivery: string }>().delivery)).toEqual(guids);
    expect(answers.slice(guids.length).map((r) => r.statusCode).sort()).toEqual([200, 202]);
    expect(await stored()).toBe(before + guids.length + 1);
  });

  it('accepts the previous secret only while a rotation is configured', async () => {
    const body = JSON.stringify(jobExamples[1]);
    expect((await post({ body, secret: PREVIOUS })).statusCode).toBe(202);
    secrets = [SECRET];
    const stale = await post({ body, secret: PREVIOUS });
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toEqual({ error: 'bad_signature', message: 'signature does not match the payload' });
  });

  it.each(['inject', 'socket'] as const)('refuses bad input with a clear 4xx and publishes nothing (%s)', async (via) => {
    const body = JSON.stringify(jobExamples[0]);
    const before = await stored();
    const cases = [
      { res: await post({ via, body, secret: 'wrong-secret' }), status: 401, error: 'bad_signature' },
      { res: await post({ via, body, headers: { 'x-hub-signature-256': '' } }), status: 401, error: 'missing_signature' },
      { res: await post({ via, body, headers: { 'x-github-event': '' } }), status: 400, error: 'missing_event' },
      { res: await post({ via, body, headers: { 'x-github-delivery': '' } }), status: 400, error: 'missing_delivery' },
      { res: await post({ via, body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), status: 415, error: 'unsupported_media_type' },
      { res: await post({ via, body: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }) }), status: 413, error: 'payload_too_large' },
      { res: await post({ via, body: '{"action": "queued", ' }), status: 400, error: 'invalid_json' },
      { res: await post({ via, body: '{"action":"queued"}' }), status: 400, error: 'invalid_payload' },
    ];
    for (const c of cases) {
      expect(c.res.statusCode, c.res.body).toBe(c.status);
      expect(c.res.json()).toMatchObject({ error: c.error });
    }
    expect(cases[3]!.res.json().message).toBe('missing X-GitHub-Delivery header');
    expect(await stored()).toBe(before);
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toMatch(/runnerhub_webhook_rejections_total\{reason="bad_signature"\} [1-9]/);
    expect(metrics.body).toMatch(/runnerhub_webhook_rejections_total\{reason="too_large"\} [1-9]/);
    expect(metrics.body).toMatch(/runnerhub_webhook_deliveries_total\{event="workflow_job",action="none",outcome="invalid"\} [1-9]/);
    expect(metrics.body).toMatch(/http_server_request_duration_seconds_count\{route="\/webhooks\/github",method="POST",status="401"\} [1-9]/);
  });

  it('answers 202 to events nobody consumes without publishing them', async () => {
    const before = await stored();
    const res = await post({ body: JSON.stringify({ ref: 'refs/heads/main' }), event: 'push' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'ignored' });
    expect(await stored()).toBe(before);
  });

  it('never crashes and never answers 5xx, whatever the headers and body', async () => {
    const header = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 60 }), fc.constantFrom('workflow_job', 'ping', 'application/json', 'sha256=00'));
    await fc.assert(
      fc.asyncProperty(
        fc.record({ event: header, delivery: header, type: header, signature: header, signBody: fc.boolean(), viaSocket: fc.boolean() }),
        fc.oneof(fc.json(), fc.string({ maxLength: 300 }), fc.constant(JSON.stringify(jobExamples[2]))),
        async (h, body) => {
          const headers: Record<string, string> = {};
          if (h.event !== undefined) headers['x-github-event'] = h.event;
          if (h.delivery !== undefined) headers['x-github-delivery'] = `fuzz-${h.delivery}`;
          if (h.type !== undefined) headers['content-type'] = h.type;
          const signature = h.signBody && body !== '' ? await sign(SECRET, body) : h.signature;
          if (signature !== undefined) headers['x-hub-signature-256'] = signature;
          // fetch refuses header values HTTP does not allow; those go through inject only.
          const sendable = Object.entries(headers).every(([k, v]) => {
            try {
              validateHeaderValue(k, v);
              return true;
            } catch {
              return false;
            }
          });
          const res = await send(h.viaSocket && sendable ? 'socket' : 'inject', body, headers);
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);

  it.each(['inject', 'socket'] as const)('answers 400 naming the field for values GitHub could never send, publishes nothing and logs the delivery as refused (%s)', async (via) => {
    const before = await stored();
    const job = (change: (j: Record<string, unknown>) => void) => {
      const p = structuredClone(jobExamples[0]!) as { workflow_job: Record<string, unknown> };
      change(p.workflow_job);
      return JSON.stringify(p);
    };
    const cases: Array<[string, string]> = [
      [job((j) => (j.run_attempt = -1)), 'workflow_job.run_attempt'],
      [job((j) => (j.run_attempt = 1.5)), 'workflow_job.run_attempt'],
      [job((j) => (j.run_attempt = 4294967296)), 'workflow_job.run_attempt'],
      [job((j) => (j.id = 2 ** 63)), 'workflow_job.id'],
      [job((j) => (j.runner_id = -3)), 'workflow_job.runner_id'],
      [job((j) => (j.labels = Array.from({ length: 500 }, (_, i) => `l${i}`))), 'workflow_job.labels'],
      [job((j) => (j.labels = ['self-hosted', 'gpu\u0000'])), 'workflow_job.labels[1]'],
      [job((j) => (j.created_at = '-100000-01-01T00:00:00Z')), 'workflow_job.created_at'],
    ];
    for (const [i, [body, field]] of cases.entries()) {
      const res = await post({ via, body, delivery: `odd-${via}-${i}` });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_payload', field, message: expect.stringContaining(field) as unknown });
    }
    expect(await stored()).toBe(before);
    await deliveryLog.flush();
    const row = await app.inject({ url: `/api/deliveries/odd-${via}-0`, headers: { authorization: 'Bearer read-token-0123456789' } });
    expect(row.json()).toMatchObject({ outcome: 'refused', lastError: expect.stringContaining('workflow_job.run_attempt') as unknown });
  });

  it('answers 413 for a delivery larger than the NATS server takes, counted as rejected, and publishes the next one as usual', async () => {
    const before = await stored();
    // Within the gateway's body limit, above the server's max_payload: padding in a field translate does not read.
    const big = JSON.stringify({ ...jobExamples[0], workflow_job: { ...(jobExamples[0]!.workflow_job as object), steps: [{ name: 'x'.repeat(NATS_MAX_PAYLOAD) }] } });
    for (const via of ['socket', 'inject'] as const) {
      const res = await post({ via, body: big, delivery: `too-big-for-nats-${via}` });
      expect(res.statusCode, res.body).toBe(413);
      expect(res.json()).toMatchObject({ error: 'payload_too_large', message: expect.stringContaining(`max_payload ${NATS_MAX_PAYLOAD}`) as unknown });
    }
    expect(await stored()).toBe(before);
    expect((await post({ via: 'socket', body: JSON.stringify(jobExamples[0]) })).statusCode).toBe(202);
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/runnerhub_webhook_rejections_total\{reason="too_large_for_nats"\} 2/);
    expect(metrics).toMatch(/runnerhub_webhook_deliveries_total\{event="workflow_job",action="in_progress",outcome="rejected"\} 2/);
    expect(metrics).not.toMatch(/outcome="unavailable"/);
    await deliveryLog.flush();
    const refused = await app.inject({ url: '/api/deliveries?outcome=refused', headers: { authorization: 'Bearer read-token-0123456789' } });
    expect(refused.json<{ deliveries: Array<{ guid: string }> }>().deliveries.map((d) => d.guid)).toContain('too-big-for-nats-socket');
  });

  it('refuses a 5,000-character action before publishing, and the publishes in flight beside it all land', async () => {
    const before = await stored();
    const lostBefore = disconnects;
    const long = JSON.stringify({ ...jobExamples[0], action: 'q'.repeat(5000) });
    const body = JSON.stringify(jobExamples[0]);
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => post({ via: 'socket', body, delivery: `beside-long-action-${i}` })),
      post({ via: 'socket', body: long, delivery: 'long-action' }),
      ...Array.from({ length: 20 }, (_, i) => post({ via: 'socket', body, delivery: `after-long-action-${i}` })),
    ]);
    const refused = answers.splice(20, 1)[0]!;
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ field: 'action' });
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 202));
    expect(await stored()).toBe(before + 40);
    expect(disconnects).toBe(lostBefore);
  });

  it('publishes only what every consumer can store: whatever it accepts goes into Postgres as the scheduler stores it, whatever it refuses names the field', async () => {
    await fc.assert(
      fc.asyncProperty(oddDelivery, async ({ event, payload, changed }) => {
        const before = (await jsm.streams.info('GITHUB')).state.last_seq;
        const res = await post({ via: 'socket', body: JSON.stringify(payload), event });
        expect(res.statusCode, res.body).toBeLessThan(500);
        const after = (await jsm.streams.info('GITHUB')).state.last_seq;
        if (res.statusCode !== 202) {
          expect(res.statusCode, res.body).toBe(400);
          const { field } = res.json<{ field: string }>();
          expect(field.startsWith(changed) || changed.startsWith(field), `${field} for ${changed}`).toBe(true);
          expect(after).toBe(before);
          return;
        }
        expect(after).toBe(before + 1);
        const msg = (await jsm.streams.getMessage('GITHUB', { seq: after }))!;
        const decoded = contractsCodec.decode(msg.subject, msg.data, msg.header.get('rh-schema'));
        const texts: string[] = [];
        const ids: string[] = [];
        const walk = (v: unknown): void => {
          if (typeof v === 'string') texts.push(v);
          else if (typeof v === 'bigint') ids.push(v.toString());
          else if (v instanceof Uint8Array) return;
          else if (Array.isArray(v)) v.forEach(walk);
          else if (v && typeof v === 'object') Object.values(v).forEach(walk);
        };
        walk(decoded);
        const attempt = (decoded as { runAttempt?: number }).runAttempt ?? 1;
        // The column types the scheduler writes these into: text, text[], bigint, integer.
        await db.pool.query('SELECT $1::text[] AS texts, $2::bigint[] AS ids, $3::integer AS attempt', [texts, ids, attempt]);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('answers 503 well inside GitHub\'s 10 s while JetStream is down, and accepts the redelivery after', async () => {
    const body = JSON.stringify(jobExamples[5]);
    await nats.stop({ keepStore: true });
    const started = Date.now();
    const res = await post({ body, delivery: 'during-outage', via: 'socket' });
    expect(res.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(10_000);
    await deliveryLog.flush();
    const failed = await app.inject({ url: '/api/deliveries?outcome=failed', headers: { authorization: 'Bearer read-token-0123456789' } });
    expect(failed.json<{ deliveries: Array<{ guid: string }> }>().deliveries.map((d) => d.guid)).toContain('during-outage');
    await nats.start();
    let again = await post({ body, delivery: 'during-outage' });
    for (let i = 0; again.statusCode === 503 && i < 40; i++) {
      await new Promise((r) => setTimeout(r, 250));
      again = await post({ body, delivery: 'during-outage' });
    }
    expect(again.statusCode).toBe(202);
    await deliveryLog.flush();
    const row = await app.inject({ url: '/api/deliveries/during-outage', headers: { authorization: 'Bearer read-token-0123456789' } });
    expect(row.json()).toMatchObject({ outcome: 'published', attempts: expect.any(Number) });
  }, 60_000);
});
