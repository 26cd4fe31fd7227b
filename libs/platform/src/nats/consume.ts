import { nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type Consumer as JsConsumer,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { context as otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { subjectMatches } from '@runnerhub/contracts';
import { deadLetterSubject, HEADER_MSG_ID, HEADER_REPLAY_FOR, HEADER_SCHEMA, type CheckedFilter, type DeadLetter, type FilterPattern, type MessageCodec, type MessageFor } from './codec.js';
import type { NatsLog } from './connection.js';
import { publishEncoded } from './publish.js';
import { messageSpanAttributes } from '../job-trace.js';

/** One pull request waits this long for a message; shorter would poll the server for nothing. */
const PULL_EXPIRES_MS = 10_000;
/** A pull that has neither delivered nor expired this long after its expiry is abandoned and retried
 * (the server restarted, or the request was lost with the old connection). */
const PULL_STALL_GRACE_MS = 10_000;
/** Wait after a failed pull, doubling per failure up to the cap, with jitter: a restarting server is
 * not hammered by every consumer of every service at once. */
const PULL_RETRY_MIN_MS = 250;
const PULL_RETRY_MAX_MS = 5_000;
/** An empty pull returning sooner than this is followed by a pause of this length. */
const EMPTY_PULL_MIN_MS = 100;
/** The server never sees a NAK without a delay from us: a delay-less NAK redelivers at once, a hot loop. */
const MIN_NAK_DELAY_MS = 10;
const DEFAULT_ACK_WAIT_MS = 30_000;
const DEFAULT_MAX_DELIVER = 5;
const DEFAULT_MAX_ACK_PENDING = 1_000;
/** Below the service's shutdown deadline (SHUTDOWN_TIMEOUT_MS, 25 s by default) so later parts still get time. */
const DEFAULT_STOP_TIMEOUT_MS = 15_000;
const DEAD_LETTER_PUBLISH_TIMEOUT_MS = 5_000;
const ACK_CONFIRM_TIMEOUT_MS = 5_000;

const propagator = new W3CTraceContextPropagator();
const tracer = () => trace.getTracer('@runnerhub/platform/nats');

/** `skipped`: a replayed dead letter meant for another consumer of the stream, acked unhandled. */
export type ConsumeOutcome = 'acked' | 'retried' | 'dead_lettered' | 'skipped';

export interface ConsumeContext {
  subject: string;
  /** Stream sequence: with `stream`, it names the message for good. */
  seq: number;
  /** 1 on first delivery. */
  deliveryCount: number;
  msgId: string | undefined;
  headers: Record<string, string>;
  /** The publisher's trace context (from `traceparent`); the handler already runs inside a span under it. */
  traceContext: Context;
  /** Aborted when stop() passes its deadline while the handler still runs. */
  signal: AbortSignal;
}

type Handler<T> = (message: T, ctx: ConsumeContext) => Promise<void> | void;

/**
 * One handler per subject the filter covers, keyed by the registry's subject pattern
 * (`'runner.started'`, `'cmd.executor.*.create'`): each gets that subject's message type, so no
 * handler casts or switches on `ctx.subject`. A covered subject left out is acked unhandled: a
 * consumer reads the facts it cares about from a stream that carries more.
 */
export type SubjectHandlers<M, F extends string> = {
  [K in keyof M as K extends FilterPattern<F> ? K : never]?: Handler<M[K]>;
};

interface ConsumerBase<M, F extends string> {
  /** For logs and metrics (e.g. `scheduler.workflow-jobs`). */
  name: string;
  stream: string;
  /** The durable consumer's name: persisted server state (its position in the stream). Never rename casually. */
  durable: string;
  filterSubject: CheckedFilter<M, F>;
  codec: MessageCodec;
  /** Messages handled at once; also the most this process holds unacknowledged. Default 1. */
  concurrency?: number;
  /** Default 30 s; a running handler extends it every ackWaitMs/3 with a progress ack. */
  ackWaitMs?: number;
  /** Deliveries before a failing message is dead-lettered. Default 5. */
  maxDeliver?: number;
  /** Delay before the next delivery after a failure. Default: 1 s doubling per delivery, capped at 60 s. */
  retryDelayMs?(deliveryCount: number): number;
  /** Errors no retry can fix (bad input): dead-lettered at once. */
  isPermanent?(err: unknown): boolean;
  log: NatsLog;
  /** Default `dead.<stream>.<durable>`. */
  deadLetterSubject?: string;
  /** Default 1000; raised to `concurrency` if lower. Shared by every replica of this consumer. */
  maxAckPending?: number;
  /** How long stop() waits for running handlers. Default 15 s. */
  stopTimeoutMs?: number;
  onOutcome?(outcome: ConsumeOutcome, subject: string): void;
}

export interface ConsumerSettings<M, F extends string> extends ConsumerBase<M, F> {
  /** Resolve when the effect is committed: the message is acked only then. Throw to retry. */
  handler(message: MessageFor<M, F>, ctx: ConsumeContext): Promise<void> | void;
}

/** A consumer declared by subject: each handler, like `handler`, resolves when its effect is committed. */
export interface SubjectConsumerSettings<M, F extends string> extends ConsumerBase<M, F> {
  handlers: SubjectHandlers<M, F>;
}

export type ConsumerState = 'paused' | 'running' | 'stopped';

export interface Consumer {
  readonly name: string;
  state(): ConsumerState;
  /** Starts (or restarts) pulling. */
  resume(): void;
  /** Stops pulling new messages; messages already delivered are still handled and acked. */
  pause(): void;
  /** Stops pulling and waits for running handlers until the deadline; then aborts their signal. */
  stop(timeoutMs?: number): Promise<void>;
}

export function defaultRetryDelayMs(deliveryCount: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, deliveryCount - 1), 60_000);
}

/**
 * A durable pull consumer that starts paused (ARCHITECTURE "take work only when ready"): call
 * resume() once the handler's dependencies answer. Each of `concurrency` workers pulls one message,
 * handles it and acks it, so nothing waits in a local buffer while its AckWait runs out.
 *
 * Name both type parameters; the filter decides the handler's message type:
 * `createConsumer<SubjectMessages, 'gh.workflow_job.>'>(nc, { filterSubject: 'gh.workflow_job.>', ... })`.
 */
export async function createConsumer<M, F extends string = never>(nc: NatsConnection, s: ConsumerSettings<M, F> | SubjectConsumerSettings<M, F>): Promise<Consumer> {
  const concurrency = Math.max(1, Math.floor(s.concurrency ?? 1));
  const ackWaitMs = s.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  const maxDeliver = Math.max(1, s.maxDeliver ?? DEFAULT_MAX_DELIVER);
  const retryDelayMs = (n: number) => Math.max(MIN_NAK_DELAY_MS, Math.round(safe(() => (s.retryDelayMs ?? defaultRetryDelayMs)(n), defaultRetryDelayMs(n))));
  const isPermanent = (err: unknown) => safe(() => s.isPermanent?.(err) ?? false, false);
  const deadSubject = s.deadLetterSubject ?? deadLetterSubject(s.stream, s.durable);
  const filterSubject: string = s.filterSubject;
  const log = s.log;
  const logBase = { consumer: s.name, stream: s.stream, durable: s.durable };
  const outcome = (o: ConsumeOutcome, subject: string) => safe(() => s.onOutcome?.(o, subject), undefined);
  const dispatch = handlerFor(s);

  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const wanted: Partial<ConsumerConfig> = {
    durable_name: s.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    // The server-side limit stays off on purpose: this consumer counts deliveries itself and
    // dead-letters at maxDeliver. If the dead-letter publish fails it NAKs instead, and a server
    // limit would then strand the message with nobody to deliver it to.
    max_deliver: -1,
    filter_subject: filterSubject,
    max_ack_pending: Math.max(concurrency, s.maxAckPending ?? DEFAULT_MAX_ACK_PENDING),
  };
  await ensureConsumer(jsm, s.stream, wanted);

  let state: ConsumerState = 'paused';
  let changed = signalOnce();
  const setState = (next: ConsumerState) => {
    state = next;
    changed.fire();
    changed = signalOnce();
  };
  const abortHandlers = new AbortController();
  const progressTimers = new Set<NodeJS.Timeout>();
  const pulls = new Set<ConsumerMessages>();
  const stopPulls = () => {
    for (const p of pulls) p.stop();
  };

  // Pull failures are logged once per episode (when they start and when pulling works again).
  let troubleSince: number | undefined;
  let failures = 0;
  const troubled = (err: unknown) => {
    failures++;
    if (troubleSince === undefined) {
      troubleSince = Date.now();
      log.warn({ ...logBase, err }, 'pulling messages failed; re-establishing the consumer');
    } else log.debug({ ...logBase, err }, 'pulling messages still failing');
  };
  const healthy = () => {
    failures = 0;
    if (troubleSince !== undefined) {
      log.info({ ...logBase, downMs: Date.now() - troubleSince }, 'pulling messages again');
      troubleSince = undefined;
    }
  };

  let handle: Promise<JsConsumer> | undefined;
  const consumerHandle = (): Promise<JsConsumer> => {
    handle ??= (async () => {
      // After a failure the consumer (or its stream) may be gone, e.g. a server that lost its store:
      // put it back as configured before pulling again.
      if (troubleSince !== undefined) await ensureConsumer(jsm, s.stream, wanted);
      return js.consumers.get(s.stream, s.durable);
    })();
    handle.catch(() => (handle = undefined));
    return handle;
  };

  const pullOne = async (): Promise<JsMsg | null> => {
    const c = await consumerHandle();
    const batch = await c.fetch({ max_messages: 1, expires: PULL_EXPIRES_MS });
    pulls.add(batch);
    if (state !== 'running') batch.stop();
    const watchdog = setTimeout(() => batch.stop(new Error(`pull request stalled for ${PULL_EXPIRES_MS + PULL_STALL_GRACE_MS} ms`)), PULL_EXPIRES_MS + PULL_STALL_GRACE_MS);
    try {
      for await (const m of batch) return m;
      return null;
    } finally {
      clearTimeout(watchdog);
      pulls.delete(batch);
    }
  };

  const deadLetter = async (m: JsMsg, headers: Record<string, string>, reason: string, traceContext: Context) => {
    const now = Date.now();
    const letter: DeadLetter = {
      stream: s.stream,
      consumer: s.durable,
      subject: m.subject,
      streamSequence: BigInt(m.seq),
      deliveries: m.info.deliveryCount,
      reason,
      // A copy: the received buffer may be a view into the connection's read buffer.
      data: new Uint8Array(m.data),
      headers,
      failedAt: { seconds: BigInt(Math.floor(now / 1000)), nanos: (now % 1000) * 1_000_000 },
    };
    try {
      const { data, schema } = s.codec.encode(deadSubject, letter);
      const msgId = `dead:${s.stream}:${m.seq}`;
      const res = await publishEncoded(js, deadSubject, data, schema, { msgId, traceContext }, DEAD_LETTER_PUBLISH_TIMEOUT_MS);
      // Only now that the DEAD stream holds a copy may the original stop being delivered.
      m.term();
      log.warn({ ...logBase, subject: m.subject, seq: m.seq, deliveries: m.info.deliveryCount, reason, deadSubject, deadSeq: res.seq }, 'message dead-lettered');
      outcome('dead_lettered', m.subject);
    } catch (err) {
      const delay = retryDelayMs(m.info.deliveryCount);
      log.error({ ...logBase, subject: m.subject, seq: m.seq, reason, err, retryInMs: delay }, 'dead-letter publish failed; the message will be delivered again');
      m.nak(delay);
      outcome('retried', m.subject);
    }
  };

  const handle1 = async (m: JsMsg) => {
    const headers = headerRecord(m);
    const replayFor = headers[HEADER_REPLAY_FOR];
    if (replayFor !== undefined && replayFor !== s.durable) {
      m.ack();
      outcome('skipped', m.subject);
      return;
    }
    const traceContext = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    const deliveryCount = m.info.deliveryCount;
    if (deliveryCount > maxDeliver) {
      // Earlier deliveries ended without an outcome (handler outlived AckWait, or the process died
      // mid-message): stop before a poison message takes the process down again.
      return deadLetter(m, headers, `delivered ${deliveryCount} times without an outcome (handler timed out or the process stopped)`, traceContext);
    }
    let message: unknown;
    try {
      message = s.codec.decode(m.subject, m.data, headers[HEADER_SCHEMA]);
    } catch (err) {
      return deadLetter(m, headers, `undecodable: ${describe(err)}`, traceContext);
    }
    const ctx: ConsumeContext = {
      subject: m.subject,
      seq: m.seq,
      deliveryCount,
      msgId: headers[HEADER_MSG_ID],
      headers,
      traceContext,
      signal: abortHandlers.signal,
    };
    const span = tracer().startSpan(
      `process ${m.subject}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': m.subject,
          'messaging.consumer.group.name': s.durable,
          'messaging.nats.stream_sequence': m.seq,
          ...messageSpanAttributes(message),
        },
      },
      traceContext,
    );
    const progress = setInterval(() => m.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
    progressTimers.add(progress);
    const endProgress = () => {
      clearInterval(progress);
      progressTimers.delete(progress);
    };
    try {
      await otelContext.with(trace.setSpan(traceContext, span), () => dispatch(message, ctx));
    } catch (err) {
      endProgress();
      span.setStatus({ code: SpanStatusCode.ERROR, message: describe(err) });
      span.end();
      const permanent = isPermanent(err);
      if (permanent || deliveryCount >= maxDeliver) {
        const why = permanent ? 'permanent error' : `failed ${deliveryCount} of ${maxDeliver} deliveries`;
        return deadLetter(m, headers, `${why}: ${describe(err)}`, traceContext);
      }
      const delay = retryDelayMs(deliveryCount);
      log.warn({ ...logBase, subject: m.subject, seq: m.seq, deliveryCount, err, retryInMs: delay }, 'handler failed; retrying later');
      m.nak(delay);
      outcome('retried', m.subject);
      return;
    }
    endProgress();
    span.end();
    try {
      // A confirmed ack: once this resolves the message is not redelivered, even if we stop right after.
      await m.ackAck({ timeout: ACK_CONFIRM_TIMEOUT_MS });
      outcome('acked', m.subject);
    } catch (err) {
      log.warn({ ...logBase, subject: m.subject, seq: m.seq, err }, 'ack not confirmed; the message may be delivered again');
    }
  };

  const worker = async () => {
    while (state !== 'stopped') {
      if (state === 'paused') {
        await changed.wait;
        continue;
      }
      let m: JsMsg | null;
      const pulledAt = Date.now();
      try {
        m = await pullOne();
        healthy();
        // An empty pull that ended at once (not by pause/stop) must not turn into a busy loop.
        if (!m && state === 'running' && Date.now() - pulledAt < EMPTY_PULL_MIN_MS) await sleep(EMPTY_PULL_MIN_MS, changed.wait);
      } catch (err) {
        if (state !== 'running') continue;
        troubled(err);
        handle = undefined;
        await sleep(jitter(Math.min(PULL_RETRY_MAX_MS, PULL_RETRY_MIN_MS * 2 ** (failures - 1))), changed.wait);
        continue;
      }
      if (m) await handle1(m);
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());

  let stopping: Promise<void> | undefined;
  return {
    name: s.name,
    state: () => state,
    resume() {
      if (state !== 'paused') return;
      setState('running');
      log.info({ ...logBase, filterSubject, concurrency }, 'consumer resumed');
    },
    pause() {
      if (state !== 'running') return;
      setState('paused');
      stopPulls();
      log.info(logBase, 'consumer paused');
    },
    stop(timeoutMs = s.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS) {
      stopping ??= (async () => {
        setState('stopped');
        stopPulls();
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          Promise.all(workers).then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
        ]);
        clearTimeout(timer);
        if (!finished) {
          // Stop extending AckWait too, so another replica gets these messages once it runs out.
          for (const t of progressTimers) clearInterval(t);
          progressTimers.clear();
          abortHandlers.abort(new Error('consumer stopped'));
          log.warn({ ...logBase, timeoutMs }, 'handlers still running at the stop deadline; their messages will be delivered again');
        } else log.info(logBase, 'consumer stopped');
      })();
      return stopping;
    },
  };
}

/**
 * Creates the durable consumer or brings its settings in line; safe to run from several replicas at
 * once. Settings the server cannot change in place (e.g. the filter on older servers) fail with the
 * consumer's name, so the operator can delete it knowing it restarts from the stream's beginning.
 */
async function ensureConsumer(jsm: JetStreamManager, stream: string, want: Partial<ConsumerConfig>): Promise<void> {
  const durable = want.durable_name ?? '';
  let info = await consumerInfo(jsm, stream, durable);
  if (!info) {
    try {
      await jsm.consumers.add(stream, want);
      return;
    } catch (err) {
      // Another replica may have created it a moment ago, with settings of its own version.
      info = await consumerInfo(jsm, stream, durable);
      if (!info) throw new Error(`cannot create consumer ${stream}/${durable}: ${describe(err)}`, { cause: err });
    }
  }
  const have = info.config;
  const differs =
    have.ack_wait !== want.ack_wait ||
    have.max_deliver !== want.max_deliver ||
    have.max_ack_pending !== want.max_ack_pending ||
    (have.filter_subject ?? '') !== (want.filter_subject ?? '');
  if (have.ack_policy !== want.ack_policy) {
    throw new Error(`consumer ${stream}/${durable} exists with ack policy ${have.ack_policy}; delete it to recreate it with explicit acks`);
  }
  if (!differs) return;
  try {
    await jsm.consumers.update(stream, durable, {
      ack_wait: want.ack_wait,
      max_deliver: want.max_deliver,
      max_ack_pending: want.max_ack_pending,
      filter_subject: want.filter_subject,
    });
  } catch (err) {
    throw new Error(`cannot update consumer ${stream}/${durable}: ${describe(err)}`, { cause: err });
  }
}

async function consumerInfo(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerInfo | null> {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return null;
    throw err;
  }
}

/**
 * The handler for a decoded message. The codec picked the schema from the subject, and a handlers
 * key is a pattern of that same registry, so the message has the type its handler names: the one
 * place that trusts the codec instead of the compiler.
 */
function handlerFor<M, F extends string>(s: ConsumerSettings<M, F> | SubjectConsumerSettings<M, F>): (message: unknown, ctx: ConsumeContext) => Promise<void> | void {
  if ('handler' in s) return (message, ctx) => s.handler(message as MessageFor<M, F>, ctx);
  const routes = Object.entries(s.handlers as Record<string, Handler<unknown> | undefined>).flatMap(([pattern, fn]) => (fn ? [{ pattern, fn }] : []));
  if (routes.length === 0) throw new Error(`consumer ${s.name}: no handler given`);
  return (message, ctx) => routes.find((r) => subjectMatches(r.pattern, ctx.subject))?.fn(message, ctx);
}

function headerRecord(m: JsMsg): Record<string, string> {
  const out: Record<string, string> = {};
  const h = m.headers;
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

const headerGetter = {
  keys: (c: Record<string, string>) => Object.keys(c),
  get: (c: Record<string, string>, key: string) => {
    const k = Object.keys(c).find((x) => x.toLowerCase() === key.toLowerCase());
    return k === undefined ? undefined : c[k];
  },
};

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function jitter(ms: number): number {
  return Math.round(ms * (0.5 + Math.random() * 0.5));
}

/** Resolves after ms, or earlier when `wake` resolves (pause/stop should not wait out a backoff). */
async function sleep(ms: number, wake: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), wake]);
  clearTimeout(timer);
}

function signalOnce(): { wait: Promise<void>; fire(): void } {
  let fire!: () => void;
  const wait = new Promise<void>((resolve) => (fire = resolve));
  return { wait, fire };
}
