import { createInbox, headers as natsHeaders, MsgHdrsImpl, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { context as otelContext, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import {
  HEADER_MSG_ID,
  HEADER_SCHEMA,
  messageSpanAttributes,
  PublishRejectedError,
  PublishTooLargeError,
  PublishUnavailableError,
  type Logger,
  type MessageCodec,
  type PublishOptions,
  type Publisher,
  type PublishResult,
} from '@runnerhub/platform';

/**
 * A JetStream publisher for the webhook hot path: many publishes in flight at once, all sharing
 * one long-lived reply subscription, each answered only by its own PubAck.
 *
 * Same contract as the platform's `createPublisher` (resolve = the stream has the message on disk;
 * `duplicate` when the stream already held this msgId; PublishUnavailableError when no PubAck came
 * in time, PublishRejectedError when the stream refused), at a fraction of the CPU per message:
 *
 * - every message goes out as a plain PUB with a reply subject `<inbox>.<token>`; one wildcard
 *   subscription `<inbox>.*` receives every PubAck and a map finds the waiter by token. No
 *   per-request subscription, timer, or pre-built error (nats.js builds two Errors, with stack
 *   traces, for each `request` in case it fails);
 * - publishes made in the same event-loop turn (one poll can hand over many HTTP requests) are
 *   handed to nats.js together from a setImmediate, so it writes them to the socket together
 *   (one write per 32 KiB, its inline-flush threshold); otherwise nats.js flushes at every
 *   microtask checkpoint, i.e. one write syscall per request;
 * - one sweep timer fails the waiters whose PubAck is overdue, instead of one timer each;
 * - when the connection drops, every waiter whose message was already written fails at once
 *   (its PubAck, if any, went to a connection that is gone): the HTTP caller answers 503 at
 *   once instead of after the timeout, and the redelivery is deduplicated by msgId.
 */

/** A publish that waits longer than this is reported as unavailable (an HTTP caller answers 503). */
const DEFAULT_TIMEOUT_MS = 5_000;
/**
 * Our headers (msg id, schema, trace context) stay far below this: only a message this close to
 * max_payload has its headers encoded once more to find its exact size.
 */
const HEADERS_HEADROOM_BYTES = 4096;
/** JetStream's "message size exceeds maximum allowed" (the stream's max_msg_size). */
const JS_MESSAGE_TOO_LARGE = 10054;

export interface PipelinedPublisherSettings {
  timeoutMs?: number;
  log?: Logger;
}

export interface PipelinedPublisher<M> extends Publisher<M> {
  /** Publishes awaiting their PubAck (or still to be written). */
  inFlight(): number;
  /** Fails whatever is still waiting and drops the reply subscription. */
  close(): Promise<void>;
}

interface Waiter {
  subject: string;
  deadline: number;
  /** Handed to nats.js (false while it waits for the next flush). */
  sent: boolean;
  span: Span;
  resolve(ack: PublishResult): void;
  reject(err: Error): void;
}

interface Outgoing {
  token: string;
  subject: string;
  reply: string;
  data: Uint8Array;
  headers: ReturnType<typeof natsHeaders>;
}

interface PubAck {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code: number; err_code?: number; description?: string };
}

const tracer = trace.getTracer('@runnerhub/webhook-gateway');
const setter = { set: (c: Record<string, string>, k: string, v: string) => void (c[k] = v) };
const decoder = new TextDecoder();

export function createPipelinedPublisher<M>(nc: NatsConnection, codec: MessageCodec, settings: PipelinedPublisherSettings = {}): PipelinedPublisher<M> {
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const prefix = `${createInbox()}.`;
  const waiters = new Map<string, Waiter>();
  let queue: Outgoing[] = [];
  let flushScheduled = false;
  let nextToken = 0;
  let closed = false;

  const succeed = (w: Waiter, ack: PublishResult) => {
    w.span.setAttribute('messaging.nats.stream_sequence', ack.seq);
    w.span.end();
    w.resolve(ack);
  };
  const reject = (w: Waiter, err: Error) => {
    w.span.setStatus({ code: SpanStatusCode.ERROR });
    w.span.end();
    w.reject(err);
  };
  const fail = (token: string, w: Waiter, err: Error) => {
    waiters.delete(token);
    reject(w, err);
  };

  const onAck = (err: Error | null, msg: Msg) => {
    if (err) {
      // The reply subscription itself failed (e.g. a permissions violation): nothing will be acknowledged.
      settings.log?.error({ err: err.message }, 'PubAck subscription failed; publishes fail until restart');
      for (const [token, w] of waiters) fail(token, w, new PublishUnavailableError(w.subject, `no PubAck for ${w.subject}: ${err.message}`, err));
      return;
    }
    const token = msg.subject.slice(prefix.length);
    const w = waiters.get(token);
    if (!w) return; // late: its publish already timed out and answered 503
    waiters.delete(token);
    // A status message instead of a PubAck: 503 "no responders" means no stream captures the subject.
    const status = msg.headers?.code ?? 0;
    if (status >= 300 || msg.data.length === 0) {
      const why = status === 503 ? 'no stream captures the subject' : `status ${status} ${msg.headers?.description ?? ''}`.trim();
      reject(w, new PublishUnavailableError(w.subject, `no PubAck for ${w.subject} (${why})`, undefined));
      return;
    }
    let ack: PubAck;
    try {
      ack = JSON.parse(decoder.decode(msg.data)) as PubAck;
    } catch (parseErr) {
      reject(w, new PublishUnavailableError(w.subject, `no PubAck for ${w.subject}: unreadable answer`, parseErr));
      return;
    }
    if (ack.error?.err_code === JS_MESSAGE_TOO_LARGE) {
      reject(w, new PublishTooLargeError(w.subject, `stream refused the message on ${w.subject}: ${ack.error.description ?? 'message size exceeds maximum allowed'}`));
    } else if (ack.error) {
      const code = ack.error.err_code ?? ack.error.code;
      reject(w, new PublishRejectedError(w.subject, code, `stream refused the message on ${w.subject}: ${ack.error.description ?? code}`, ack.error));
    } else if (!ack.stream || typeof ack.seq !== 'number') {
      reject(w, new PublishUnavailableError(w.subject, `no PubAck for ${w.subject}: invalid ack response`, undefined));
    } else {
      succeed(w, { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true });
    }
  };
  const sub: Subscription = nc.subscribe(`${prefix}*`, { callback: onAck });

  const flush = () => {
    flushScheduled = false;
    const batch = queue;
    queue = [];
    // nats.js buffers these and writes the buffer out every 32 KiB and at the next microtask checkpoint.
    for (const o of batch) {
      const w = waiters.get(o.token);
      if (!w) continue; // timed out before it was written
      try {
        nc.publish(o.subject, o.data, { reply: o.reply, headers: o.headers });
        w.sent = true;
      } catch (err) {
        // Closed or draining connection, or a bad subject: not on disk, the caller answers 503.
        fail(o.token, w, new PublishUnavailableError(o.subject, `no PubAck for ${o.subject}: ${(err as Error).message}`, err));
      }
    }
  };

  // Waiters are in the map in publish order with the same timeout, so the overdue ones come first.
  const sweep = () => {
    const now = performance.now();
    for (const [token, w] of waiters) {
      if (w.deadline > now) break;
      fail(token, w, new PublishUnavailableError(w.subject, `no PubAck for ${w.subject} within ${timeoutMs} ms (NATS down, or no stream captures the subject)`, undefined));
    }
  };
  const sweeper = setInterval(sweep, Math.max(10, Math.min(250, Math.floor(timeoutMs / 4))));
  sweeper.unref();

  // A dropped connection loses the PubAcks of what was already written: fail those now.
  // nats.js's iterator has stop(), though the type does not say so.
  const statusEvents: AsyncIterable<{ type: string }> & { stop?: () => void } = nc.status();
  void (async () => {
    for await (const s of statusEvents) {
      if (s.type !== 'disconnect') continue;
      for (const [token, w] of waiters) {
        if (w.sent) fail(token, w, new PublishUnavailableError(w.subject, `no PubAck for ${w.subject}: the NATS connection dropped`, undefined));
      }
    }
  })().catch(() => undefined);

  return {
    publish(subject, message, opts: PublishOptions): Promise<PublishResult> {
      if (!opts.msgId) throw new TypeError(`publish to ${subject}: msgId is required (a deterministic id makes retries safe)`);
      // An encode failure is a bug in the caller (a message that does not fit its subject): let it throw as is.
      const { data, schema } = codec.encode(subject, message);
      if (closed || nc.isClosed()) return Promise.reject(new PublishUnavailableError(subject, `no PubAck for ${subject}: the NATS connection is closed`, undefined));

      const parent = opts.traceContext ?? otelContext.active();
      const span = tracer.startSpan(`publish ${subject}`, { kind: SpanKind.PRODUCER }, parent);
      if (span.isRecording()) {
        // The same attributes as the platform's createPublisher puts on its publish span.
        span.setAttributes({ 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': opts.msgId, ...messageSpanAttributes(message) });
      }
      const h = natsHeaders();
      if (opts.headers) for (const k in opts.headers) h.set(k, opts.headers[k]!);
      h.set(HEADER_MSG_ID, opts.msgId);
      h.set(HEADER_SCHEMA, schema);
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(parent, span), carrier, setter);
      for (const k in carrier) h.set(k, carrier[k]!);
      // The limit the server announced in its INFO on this connection (nats.js would throw in flush,
      // which is indistinguishable from an outage there): permanent, so refused now and as such.
      const max = nc.info?.max_payload;
      if (max !== undefined && data.length + HEADERS_HEADROOM_BYTES > max) {
        const size = data.length + (h instanceof MsgHdrsImpl ? h.encode().length : HEADERS_HEADROOM_BYTES);
        if (size > max) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          return Promise.reject(new PublishTooLargeError(subject, `${subject}: the message is ${size} bytes, more than the NATS server takes (max_payload ${max} bytes)`, { size, max }));
        }
      }

      const token = (nextToken++).toString(36);
      return new Promise<PublishResult>((resolve, reject) => {
        waiters.set(token, { subject, deadline: performance.now() + timeoutMs, sent: false, span, resolve, reject });
        queue.push({ token, subject, reply: prefix + token, data, headers: h });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    inFlight: () => waiters.size,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      statusEvents.stop?.();
      for (const [token, w] of waiters) fail(token, w, new PublishUnavailableError(w.subject, `no PubAck for ${w.subject}: the publisher closed`, undefined));
      if (!nc.isClosed()) sub.unsubscribe();
      await Promise.resolve();
    },
  };
}
