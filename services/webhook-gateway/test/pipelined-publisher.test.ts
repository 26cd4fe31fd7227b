import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, createLogger, PublishRejectedError, PublishUnavailableError, type MessageCodec } from '@runnerhub/platform';
import { startNatsServer, startTcpProxy, waitFor, type NatsServer, type TcpProxy } from '@runnerhub/testing';
import { createPipelinedPublisher, type PipelinedPublisher } from '../src/pipelined-publisher.js';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** Bytes in, bytes out: these tests are about the PubAck plumbing, not the contracts. */
const rawCodec: MessageCodec = {
  encode: (_subject, message) => ({ data: message as Uint8Array, schema: 'test.Raw' }),
  decode: (_subject, data) => data,
};
type Raw = Record<string, Uint8Array>;
const bytes = (s: string) => new TextEncoder().encode(s);

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value, at: Date.now() }),
    (err: unknown) => ({ ok: false as const, err, at: Date.now() }),
  );

describe('pipelined JetStream publisher', () => {
  let nats: NatsServer;
  let proxy: TcpProxy;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const publishers: Array<PipelinedPublisher<Raw>> = [];
  const publisher = (timeoutMs = 2_000) => {
    const p = createPipelinedPublisher<Raw>(nc, rawCodec, { timeoutMs, log });
    publishers.push(p);
    return p;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: nats.port });
    nc = await connectNats({ servers: proxy.rewriteUrl(nats.url), name: 'pipelined-publisher-test', log });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'PIPE', subjects: ['pipe.>'], duplicate_window: 60_000_000_000 });
    await jsm.streams.add({ name: 'FULL', subjects: ['full.>'], max_msgs: 1, discard: 'new' });
  }, 60_000);

  afterEach(async () => {
    await proxy.restore();
    for (const p of publishers.splice(0)) await p.close();
  });

  afterAll(async () => {
    await nc?.close();
    await proxy?.close();
    await nats?.stop();
  });

  it('gives each of many concurrent publishes its own PubAck', async () => {
    const pub = publisher();
    const before = (await jsm.streams.info('PIPE')).state.messages;
    const n = 1_000;
    const acks = await Promise.all(Array.from({ length: n }, (_, i) => pub.publish(`pipe.many.${i % 7}`, bytes(`message ${i}`), { msgId: `many-${i}` })));
    expect(pub.inFlight()).toBe(0);
    expect(new Set(acks.map((a) => a.seq)).size).toBe(n);
    expect(acks.every((a) => a.stream === 'PIPE' && !a.duplicate)).toBe(true);
    expect((await jsm.streams.info('PIPE')).state.messages).toBe(before + n);
    // Each answer belongs to its own message, not to whichever PubAck came next.
    for (const i of [0, 1, 499, 998, 999]) {
      const stored = await jsm.streams.getMessage('PIPE', { seq: acks[i]!.seq });
      expect(stored?.header.get('Nats-Msg-Id')).toBe(`many-${i}`);
      expect(new TextDecoder().decode(stored?.data)).toBe(`message ${i}`);
      expect(stored?.header.get('rh-schema')).toBe('test.Raw');
    }
  });

  it('reports a repeated msgId as a duplicate and stores nothing new', async () => {
    const pub = publisher();
    const first = await pub.publish('pipe.dup', bytes('one'), { msgId: 'dup-1' });
    const before = (await jsm.streams.info('PIPE')).state.messages;
    const [again, third] = await Promise.all([pub.publish('pipe.dup', bytes('one'), { msgId: 'dup-1' }), pub.publish('pipe.dup', bytes('one'), { msgId: 'dup-1' })]);
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });
    expect(third).toMatchObject({ duplicate: true, seq: first.seq });
    expect((await jsm.streams.info('PIPE')).state.messages).toBe(before);
  });

  it('fails at once when no stream captures the subject, and when the stream refuses', async () => {
    const pub = publisher(5_000);
    const started = Date.now();
    await expect(pub.publish('nostream.x', bytes('x'), { msgId: 'ns-1' })).rejects.toBeInstanceOf(PublishUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);

    await pub.publish('full.a', bytes('a'), { msgId: 'full-1' });
    const refused = await settle(pub.publish('full.b', bytes('b'), { msgId: 'full-2' }));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.err).toBeInstanceOf(PublishRejectedError);
    expect(!refused.ok && (refused.err as PublishRejectedError).kind).toBe('unavailable');
  });

  it('times out a publish nobody answers, without holding up the others', async () => {
    // A core subscriber that never replies: no "no responders" status, no PubAck.
    const silent = nc.subscribe('silent.>', { callback: () => undefined });
    try {
      const pub = publisher(600);
      const started = Date.now();
      const [lost, fine] = await Promise.all([settle(pub.publish('silent.x', bytes('x'), { msgId: 'silent-1' })), settle(pub.publish('pipe.ok', bytes('ok'), { msgId: 'silent-ok-1' }))]);
      expect(fine.ok).toBe(true);
      expect(fine.at - started).toBeLessThan(600);
      expect(lost.ok).toBe(false);
      expect(!lost.ok && lost.err).toBeInstanceOf(PublishUnavailableError);
      expect(lost.at - started).toBeGreaterThanOrEqual(550);
      expect(lost.at - started).toBeLessThan(1_500);
      expect(pub.inFlight()).toBe(0);
    } finally {
      silent.unsubscribe();
    }
  });

  it('settles every pending publish within its timeout when NATS is cut, and publishes again after', async () => {
    const timeoutMs = 3_000;
    const pub = publisher(timeoutMs);
    const started = Date.now();
    const inFlight = Array.from({ length: 300 }, (_, i) => settle(pub.publish('pipe.cut', bytes(`c${i}`), { msgId: `cut-${i}` })));
    await proxy.cut();
    const during = Array.from({ length: 20 }, (_, i) => settle(pub.publish('pipe.cut', bytes(`d${i}`), { msgId: `during-cut-${i}` })));
    const outcomes = await Promise.all([...inFlight, ...during]);
    for (const o of outcomes) {
      expect(o.at - started).toBeLessThan(timeoutMs + 1_000);
      if (!o.ok) expect(o.err).toBeInstanceOf(PublishUnavailableError);
    }
    // The ones published while the link was down cannot have been acknowledged.
    expect(outcomes.slice(inFlight.length).every((o) => !o.ok)).toBe(true);
    expect(pub.inFlight()).toBe(0);

    await proxy.restore();
    // nats.js reconnects on its own (1-2 s) and re-subscribes the reply inbox.
    let ack: Awaited<ReturnType<typeof pub.publish>> | undefined;
    await waitFor(
      async () => {
        ack = await pub.publish('pipe.cut', bytes('after'), { msgId: `after-cut-${Date.now()}` }).catch(() => undefined);
        return ack !== undefined;
      },
      { timeoutMs: 20_000, what: 'a publish to succeed after the link is back' },
    );
    expect(ack).toMatchObject({ stream: 'PIPE', duplicate: false });
  }, 40_000);

  it('fails what is pending when closed, and everything after', async () => {
    const silent = nc.subscribe('silent.>', { callback: () => undefined });
    try {
      const pub = publisher(10_000);
      const pending = settle(pub.publish('silent.close', bytes('x'), { msgId: 'close-1' }));
      await new Promise((r) => setTimeout(r, 50));
      await pub.close();
      const o = await pending;
      expect(!o.ok && o.err).toBeInstanceOf(PublishUnavailableError);
      await expect(pub.publish('pipe.closed', bytes('x'), { msgId: 'close-2' })).rejects.toBeInstanceOf(PublishUnavailableError);
    } finally {
      silent.unsubscribe();
    }
  });

  it('refuses a publish without msgId', () => {
    expect(() => publisher().publish('pipe.x', bytes('x'), { msgId: '' })).toThrow(/msgId is required/);
  });
});
