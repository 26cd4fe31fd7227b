import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServer } from '@runnerhub/testing';
import {
  createConsumer,
  createPublisher,
  ensureStreams,
  HEADER_REPLAY_FOR,
  type ConsumeOutcome,
  type Consumer,
  type ConsumerSettings,
  type DeadLetter,
  type MessageFor,
} from '../src/nats/index.js';
import { connectTest, deadStream, jsonCodec, memoryLog, sleep, testStream, waitFor } from './nats-support.js';

interface Task {
  id: string;
}
interface Subjects {
  [s: `task.${string}`]: Task;
  [s: `dead.${string}`]: DeadLetter;
}

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
const started: Consumer[] = [];
let streamNo = 0;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTest(server.url);
  jsm = await jetstreamManager(nc);
  await ensureStreams(nc, [deadStream]);
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop(2_000)));
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** Each test gets its own stream (TASKS<n>, subjects task<n>.>) so leftovers never leak between tests. */
async function setup() {
  streamNo++;
  const stream = `TASKS${streamNo}`;
  const subject: `task.${string}` = `task.s${streamNo}`;
  await ensureStreams(nc, [testStream(stream, [`task.s${streamNo}.>`, subject])]);
  const outcomes: Array<[ConsumeOutcome, string]> = [];
  const log = memoryLog();
  const pub = createPublisher<Subjects>(nc, jsonCodec);
  const consumer = async (
    handler: ConsumerSettings<Subjects, 'task.>'>['handler'],
    extra: Partial<ConsumerSettings<Subjects, 'task.>'>> = {},
  ) => {
    const c = await createConsumer<Subjects, 'task.>'>(nc, {
      name: `test-${stream}`,
      stream,
      durable: 'worker',
      filterSubject: 'task.>',
      codec: jsonCodec,
      handler,
      retryDelayMs: () => 50,
      log,
      onOutcome: (o, s) => outcomes.push([o, s]),
      ...extra,
    });
    started.push(c);
    return c;
  };
  const deadLetters = async (): Promise<DeadLetter[]> => {
    const { state } = await jsm.streams.info('DEAD');
    const out: DeadLetter[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage('DEAD', { seq }).catch(() => null);
      if (m?.subject === `dead.${stream}.worker`) out.push(jsonCodec.decode(m.subject, m.data) as DeadLetter);
    }
    return out;
  };
  const consumerInfo = () => jsm.consumers.info(stream, 'worker');
  return { stream, subject, pub, consumer, outcomes, log, deadLetters, consumerInfo };
}

describe('createConsumer', () => {
  it('does nothing while paused and consumes after resume()', async () => {
    const t = await setup();
    const seen: string[] = [];
    const c = await t.consumer((m) => void seen.push(m.id));
    await t.pub.publish(`${t.subject}`, { id: 'a' }, { msgId: 'a' });

    // The consumer exists on the server and has the message waiting, but takes none of it while paused.
    await waitFor(async () => (await t.consumerInfo()).num_pending === 1, 'message pending on the consumer');
    await sleep(1_000);
    expect(seen).toEqual([]);
    expect(c.state()).toBe('paused');
    expect((await t.consumerInfo()).num_ack_pending).toBe(0);

    c.resume();
    await waitFor(() => seen.length === 1, 'message handled after resume');
    expect(seen).toEqual(['a']);
    await waitFor(() => t.outcomes.length === 1, 'acked outcome');
    expect(t.outcomes).toEqual([['acked', t.subject]]);

    c.pause();
    await t.pub.publish(`${t.subject}`, { id: 'b' }, { msgId: 'b' });
    await waitFor(async () => (await t.consumerInfo()).num_pending === 1, 'second message pending');
    await sleep(1_000);
    expect(seen).toEqual(['a']);
    c.resume();
    await waitFor(() => seen.length === 2, 'second message handled after resume');
  });

  it('puts its durable consumer back when it was deleted under it', async () => {
    const t = await setup();
    const seen: string[] = [];
    const c = await t.consumer((m) => void seen.push(m.id));
    c.resume();
    await t.pub.publish(t.subject, { id: 'one' }, { msgId: 'one' });
    await waitFor(() => seen.length === 1, 'first message');
    await jsm.consumers.delete(t.stream, 'worker');
    await waitFor(() => t.consumerInfo(), 'consumer recreated');
    await t.pub.publish(t.subject, { id: 'two' }, { msgId: 'two' });
    // A recreated consumer starts from the stream's beginning: 'one' comes again (handlers are idempotent).
    await waitFor(() => seen.includes('two'), 'message after recreation');
    expect(t.log.entries.filter((e) => e.msg?.startsWith('pulling messages failed'))).toHaveLength(1);
  });

  it('hands the handler the decoded message and its delivery context', async () => {
    const t = await setup();
    const ctxs: Parameters<ConsumerSettings<Subjects, 'task.>'>['handler']>[1][] = [];
    const c = await t.consumer((_m, ctx) => void ctxs.push(ctx));
    const res = await t.pub.publish(`${t.subject}.x`, { id: 'ctx' }, { msgId: 'ctx-1' });
    c.resume();
    const [ctx] = await waitFor(() => (ctxs.length ? ctxs : undefined), 'handler call');
    expect(ctx).toMatchObject({ subject: `${t.subject}.x`, seq: res.seq, deliveryCount: 1, msgId: 'ctx-1' });
    expect(ctx!.headers['rh-schema']).toBe('test.Json');
    expect(ctx!.signal.aborted).toBe(false);
  });

  it('retries a transient failure with a delay and acks it once it succeeds', async () => {
    const t = await setup();
    let calls = 0;
    const c = await t.consumer(() => {
      calls++;
      if (calls < 3) throw new Error('database busy');
    });
    await t.pub.publish(t.subject, { id: 'retry' }, { msgId: 'retry' });
    c.resume();
    await waitFor(() => t.outcomes.some(([o]) => o === 'acked'), 'acked after retries');
    expect(t.outcomes.map(([o]) => o)).toEqual(['retried', 'retried', 'acked']);
    const info = await t.consumerInfo();
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(await t.deadLetters()).toEqual([]);
  });

  it('dead-letters a message that fails every delivery, with its reason and bytes, and never delivers it again', async () => {
    const t = await setup();
    let calls = 0;
    const c = await t.consumer(
      () => {
        calls++;
        throw new Error(`handler broke #${calls}`);
      },
      { maxDeliver: 3 },
    );
    const res = await t.pub.publish(t.subject, { id: 'poison' }, { msgId: 'poison-1' });
    const original = await jsm.streams.getMessage(t.stream, { seq: res.seq });
    c.resume();

    await waitFor(() => t.outcomes.some(([o]) => o === 'dead_lettered'), 'dead-lettered');
    const [dead, ...more] = await t.deadLetters();
    expect(more).toEqual([]);
    expect(dead).toMatchObject({
      stream: t.stream,
      consumer: 'worker',
      subject: t.subject,
      streamSequence: BigInt(res.seq),
      deliveries: 3,
    });
    expect(dead!.reason).toContain('handler broke #3');
    expect(dead!.data).toEqual(original!.data);
    expect(dead!.headers['Nats-Msg-Id']).toBe('poison-1');
    expect(typeof dead!.failedAt.seconds).toBe('bigint');
    const deadMsg = await jsm.streams.getMessage('DEAD', { last_by_subj: `dead.${t.stream}.worker` });
    expect(deadMsg?.header.get('Nats-Msg-Id')).toBe(`dead:${t.stream}:${res.seq}`);

    // Terminated: well past several retry delays it has not come back.
    await sleep(1_500);
    expect(calls).toBe(3);
    expect(t.outcomes.map(([o]) => o)).toEqual(['retried', 'retried', 'dead_lettered']);
    const info = await t.consumerInfo();
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
  });

  it('dead-letters an undecodable message at once without calling the handler', async () => {
    const t = await setup();
    let calls = 0;
    const c = await t.consumer(() => void calls++);
    const pa = await jetstream(nc).publish(t.subject, new TextEncoder().encode('{not json'), { msgID: 'garbage' });
    c.resume();
    await waitFor(() => t.outcomes.length === 1, 'outcome');
    expect(t.outcomes).toEqual([['dead_lettered', t.subject]]);
    const [dead] = await t.deadLetters();
    expect(dead).toMatchObject({ streamSequence: BigInt(pa.seq), deliveries: 1 });
    expect(dead!.reason).toMatch(/^undecodable: /);
    expect(new TextDecoder().decode(dead!.data)).toBe('{not json');
    expect(calls).toBe(0);
  });

  it('dead-letters a permanent error on the first delivery', async () => {
    const t = await setup();
    class BadInput extends Error {}
    const c = await t.consumer(
      () => {
        throw new BadInput('labels missing');
      },
      { isPermanent: (e) => e instanceof BadInput, maxDeliver: 5 },
    );
    await t.pub.publish(t.subject, { id: 'bad' }, { msgId: 'bad' });
    c.resume();
    await waitFor(() => t.outcomes.length === 1, 'outcome');
    expect(t.outcomes).toEqual([['dead_lettered', t.subject]]);
    const [dead] = await t.deadLetters();
    expect(dead).toMatchObject({ deliveries: 1 });
    expect(dead!.reason).toBe('permanent error: labels missing');
  });

  it('keeps the message and retries when the dead-letter publish fails', async () => {
    const t = await setup();
    let calls = 0;
    const c = await t.consumer(
      () => {
        calls++;
        throw new Error('always');
      },
      { maxDeliver: 1, deadLetterSubject: 'nowhere.captured' },
    );
    await t.pub.publish(t.subject, { id: 'keep' }, { msgId: 'keep' });
    c.resume();
    await waitFor(() => t.outcomes.length >= 2, 'two outcomes', 30_000);
    expect(t.outcomes.slice(0, 2).map(([o]) => o)).toEqual(['retried', 'retried']);
    expect(calls).toBe(1); // later deliveries go straight to the (failing) dead-letter publish
    await c.stop();
    const info = await t.consumerInfo();
    expect(info.num_pending + info.num_ack_pending + info.num_redelivered).toBeGreaterThan(0);
    expect(t.log.entries.some((e) => e.msg?.startsWith('dead-letter publish failed'))).toBe(true);
  });

  it('hands a replayed dead letter only to the consumer that gave up on it; the stream\'s other consumers ack it unhandled', async () => {
    const t = await setup();
    const byWorker: string[] = [];
    const byAuditor: string[] = [];
    const worker = await t.consumer((m) => void byWorker.push(m.id));
    const auditorOutcomes: ConsumeOutcome[] = [];
    const auditor = await t.consumer((m) => void byAuditor.push(m.id), { durable: 'auditor', name: `auditor-${t.stream}`, onOutcome: (o) => auditorOutcomes.push(o) });
    await t.pub.publish(t.subject, { id: 'original' }, { msgId: 'original' });
    // What the dead-letter replay publishes: the original again, under a new id, for `worker`.
    await t.pub.publish(t.subject, { id: 'original' }, { msgId: 'replay:1:original', headers: { [HEADER_REPLAY_FOR]: 'worker' } });
    await t.pub.publish(t.subject, { id: 'next' }, { msgId: 'next' });
    worker.resume();
    auditor.resume();
    await waitFor(() => byWorker.length === 3 && byAuditor.includes('next'), 'all three through both consumers');
    expect(byWorker).toEqual(['original', 'original', 'next']);
    expect(byAuditor).toEqual(['original', 'next']);
    expect(auditorOutcomes).toEqual(['acked', 'skipped', 'acked']);
    const info = await jsm.consumers.info(t.stream, 'auditor');
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it('stop() waits for the running handler, and its message is acked rather than redelivered', async () => {
    const t = await setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let finished = false;
    const c = await t.consumer(async () => {
      await gate;
      finished = true;
    });
    await t.pub.publish(t.subject, { id: 'slow' }, { msgId: 'slow' });
    c.resume();
    await waitFor(async () => (await t.consumerInfo()).num_ack_pending === 1, 'handler running');

    const stopped = c.stop(20_000);
    await sleep(300);
    expect(finished).toBe(false);
    release();
    await stopped;
    expect(finished).toBe(true);
    expect(c.state()).toBe('stopped');
    const info = await t.consumerInfo();
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);

    // The next consumer on the same durable finds nothing to do.
    let redelivered = 0;
    const next = await t.consumer(() => void redelivered++);
    next.resume();
    await sleep(1_000);
    expect(redelivered).toBe(0);
  });

  it('stop() gives up on a handler at its deadline and aborts the handler’s signal', async () => {
    const t = await setup();
    let signal: AbortSignal | undefined;
    const c = await t.consumer(async (_m, ctx) => {
      signal = ctx.signal;
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      throw new Error('aborted');
    });
    await t.pub.publish(t.subject, { id: 'stuck' }, { msgId: 'stuck' });
    c.resume();
    await waitFor(() => signal, 'handler running');
    const began = Date.now();
    await c.stop(300);
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(signal!.aborted).toBe(true);
    expect(t.log.entries.some((e) => e.msg?.startsWith('handlers still running at the stop deadline'))).toBe(true);
  });

  it('pulls at most `concurrency` messages at a time', async () => {
    const t = await setup();
    let running = 0;
    let peak = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = await t.consumer(
      async () => {
        running++;
        peak = Math.max(peak, running);
        await gate;
        running--;
      },
      { concurrency: 2 },
    );
    for (let i = 0; i < 6; i++) await t.pub.publish(t.subject, { id: `c${i}` }, { msgId: `c${i}` });
    c.resume();
    await waitFor(() => running === 2, 'two handlers running');
    await sleep(500);
    // Nothing is buffered behind the two running handlers: the server still holds the other four.
    const info = await t.consumerInfo();
    expect(info.num_ack_pending).toBe(2);
    expect(info.num_pending).toBe(4);
    release();
    await waitFor(() => t.outcomes.length === 6, 'all acked');
    expect(peak).toBe(2);
  });

  it('keeps a long handler’s message from being redelivered by extending AckWait', async () => {
    const t = await setup();
    let calls = 0;
    const c = await t.consumer(
      async () => {
        calls++;
        await sleep(3_500);
      },
      { ackWaitMs: 1_000 },
    );
    await t.pub.publish(t.subject, { id: 'long' }, { msgId: 'long' });
    c.resume();
    await waitFor(() => t.outcomes.length === 1, 'acked', 30_000);
    expect(t.outcomes).toEqual([['acked', t.subject]]);
    expect(calls).toBe(1);
    expect((await t.consumerInfo()).num_redelivered).toBe(0);
  });

  it('creates the durable consumer idempotently and updates changed settings', async () => {
    const t = await setup();
    await t.consumer(() => undefined, { ackWaitMs: 20_000, concurrency: 3, maxAckPending: 1 });
    const first = await t.consumerInfo();
    expect(first.config).toMatchObject({ ack_policy: 'explicit', filter_subject: 'task.>', max_ack_pending: 3, ack_wait: 20_000_000_000 });
    await Promise.all([t.consumer(() => undefined, { ackWaitMs: 40_000 }), t.consumer(() => undefined, { ackWaitMs: 40_000 })]);
    const second = await t.consumerInfo();
    expect(second.config.ack_wait).toBe(40_000_000_000);
    expect(second.created).toEqual(first.created);
  });

  it('types the handler’s message from the filter subject', () => {
    type Handler = ConsumerSettings<Subjects, 'task.>'>['handler'];
    const ok: Handler = (m) => void m.id;
    expect(typeof ok).toBe('function');
    const typeOnly = async () => {
      await createConsumer<Subjects, 'task.>'>(nc, {
        name: 'x',
        stream: 'x',
        durable: 'x',
        filterSubject: 'task.>',
        codec: jsonCodec,
        log: memoryLog(),
        handler: (m: MessageFor<Subjects, 'task.>'>) => void m.id,
      });
      await createConsumer<Subjects, 'tsak.>'>(nc, {
        name: 'x',
        stream: 'x',
        durable: 'x',
        // @ts-expect-error the filter matches no subject in the map
        filterSubject: 'tsak.>',
        codec: jsonCodec,
        log: memoryLog(),
        handler: () => undefined,
      });
    };
    expect(typeof typeOnly).toBe('function');
  });
});
