import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { startNatsServer, type NatsServer } from '@runnerhub/testing';
import { AppError } from '../src/errors.js';
import { createPublisher, ensureStreams, PublishUnavailableError, type MessageFor, type Publisher } from '../src/nats/index.js';
import { connectTest, jsonCodec, testStream } from './nats-support.js';

interface Order {
  id: string;
  qty: number;
}
interface Shipment {
  sku: string;
}
interface Subjects {
  'orders.created': Order;
  [s: `ship.item.${string}`]: Shipment;
}

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTest(server.url);
  await ensureStreams(nc, [testStream('ORDERS', ['orders.>', 'ship.>'])]);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe('createPublisher', () => {
  it('stores a message once per Msg-Id and reports the repeat as a duplicate', async () => {
    const pub = createPublisher<Subjects>(nc, jsonCodec);
    const first = await pub.publish('orders.created', { id: 'o-1', qty: 2 }, { msgId: 'order-o-1' });
    const again = await pub.publish('orders.created', { id: 'o-1', qty: 2 }, { msgId: 'order-o-1' });

    expect(first).toMatchObject({ stream: 'ORDERS', duplicate: false });
    expect(again).toEqual({ stream: 'ORDERS', seq: first.seq, duplicate: true });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('ORDERS', { subjects_filter: 'orders.created' });
    expect(info.state.subjects?.['orders.created']).toBe(1);
  });

  it('sends Nats-Msg-Id, rh-schema and the caller’s traceparent with the encoded body', async () => {
    const pub = createPublisher<Subjects>(nc, jsonCodec);
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    const traceContext = trace.setSpanContext(ROOT_CONTEXT, spanContext);
    const res = await pub.publish('ship.item.abc', { sku: 'abc' }, { msgId: 'ship-abc', headers: { 'x-extra': '1' }, traceContext });

    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage('ORDERS', { seq: res.seq });
    expect(stored?.header.get('Nats-Msg-Id')).toBe('ship-abc');
    expect(stored?.header.get('rh-schema')).toBe('test.Json');
    expect(stored?.header.get('x-extra')).toBe('1');
    expect(stored?.header.get('traceparent')).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(jsonCodec.decode('ship.item.abc', stored!.data)).toEqual({ sku: 'abc' });
  });

  it('sends no traceparent when there is no trace to continue', async () => {
    const pub = createPublisher<Subjects>(nc, jsonCodec);
    const res = await pub.publish('orders.created', { id: 'o-2', qty: 1 }, { msgId: 'order-o-2' });
    const stored = await (await jetstreamManager(nc)).streams.getMessage('ORDERS', { seq: res.seq });
    expect(stored?.header.has('traceparent')).toBe(false);
  });

  it('fails with a 503-typed error when no stream captures the subject', async () => {
    const pub = createPublisher<{ 'nowhere.x': Order }>(nc, jsonCodec, { timeoutMs: 1_000 });
    const err = await pub.publish('nowhere.x', { id: 'x', qty: 1 }, { msgId: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishUnavailableError);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(503);
  });

  it('refuses a publish without a msgId', async () => {
    const pub = createPublisher<Subjects>(nc, jsonCodec);
    await expect(pub.publish('orders.created', { id: 'o-3', qty: 1 }, { msgId: '' })).rejects.toThrow(/msgId is required/);
  });

  it('checks subjects and message types at compile time', () => {
    const pub = null as unknown as Publisher<Subjects>;
    const typeOnly = () => {
      // @ts-expect-error wrong message type for the subject
      void pub.publish('orders.created', { sku: 'x' }, { msgId: 'a' });
      // @ts-expect-error subject not in the map
      void pub.publish('orders.deleted', { id: 'x', qty: 1 }, { msgId: 'a' });
      void pub.publish('ship.item.42', { sku: 'x' }, { msgId: 'a' });
    };
    expect(typeof typeOnly).toBe('function');
    expectTypeOf<MessageFor<Subjects, 'orders.created'>>().toEqualTypeOf<Order>();
    expectTypeOf<MessageFor<Subjects, 'ship.item.*'>>().toEqualTypeOf<Shipment>();
    expectTypeOf<MessageFor<Subjects, 'ship.>'>>().toEqualTypeOf<Shipment>();
    expectTypeOf<MessageFor<Subjects, '>'>>().toEqualTypeOf<Order | Shipment>();
    expectTypeOf<MessageFor<Subjects, 'orders.*'>>().toEqualTypeOf<Order>();
    expectTypeOf<MessageFor<Subjects, 'nothing.>'>>().toBeNever();
  });
});

describe('publish while NATS is down', () => {
  it('fails with PublishUnavailableError within the timeout, and works again after the server is back', async () => {
    const own = await startNatsServer();
    const conn = await connectTest(own.url);
    try {
      await ensureStreams(conn, [testStream('DOWN', ['down.>'])]);
      const pub = createPublisher<{ 'down.x': Order }>(conn, jsonCodec, { timeoutMs: 1_000 });
      await own.kill();
      const started = Date.now();
      await expect(pub.publish('down.x', { id: '1', qty: 1 }, { msgId: 'd-1' })).rejects.toBeInstanceOf(PublishUnavailableError);
      expect(Date.now() - started).toBeLessThan(10_000);
      await own.restart();
      const deadline = Date.now() + 20_000;
      let res;
      while (!res && Date.now() < deadline) res = await pub.publish('down.x', { id: '1', qty: 1 }, { msgId: 'd-2' }).catch(() => undefined);
      expect(res?.stream).toBe('DOWN');
    } finally {
      await conn.close();
      await own.stop();
    }
  }, 60_000);
});
