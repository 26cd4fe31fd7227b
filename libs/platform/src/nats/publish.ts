import { errors as natsErrors, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { context as otelContext, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AppError } from '../errors.js';
import { messageSpanAttributes } from '../job-trace.js';
import { HEADER_MSG_ID, HEADER_SCHEMA, type MessageCodec } from './codec.js';

/** A publish that waits longer than this is reported as unavailable (an HTTP caller answers 503). */
const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;

const propagator = new W3CTraceContextPropagator();
const tracer = () => trace.getTracer('@runnerhub/platform/nats');

export interface PublishOptions {
  /** Deterministic id (e.g. the GitHub delivery GUID): JetStream drops a repeat within the stream's duplicate window. */
  msgId: string;
  headers?: Record<string, string>;
  /** Trace context to propagate; defaults to the active OpenTelemetry context. */
  traceContext?: Context;
}

export interface PublishResult {
  stream: string;
  seq: number;
  /** True when the stream already held a message with this msgId; nothing new was stored. */
  duplicate: boolean;
}

/**
 * M maps subjects to the message shapes `publish` accepts: a subject missing from M, or a message
 * of the wrong type for its subject, does not compile. Subjects with a variable part use template
 * keys (`[s: \`gh.workflow_job.${string}\`]: WorkflowJobEvent`).
 */
export interface Publisher<M> {
  publish<S extends keyof M & string>(subject: S, message: M[S], opts: PublishOptions): Promise<PublishResult>;
}

export interface PublisherSettings {
  timeoutMs?: number;
}

/** NATS or the stream did not answer in time (or no stream captures the subject): try again later. */
export class PublishUnavailableError extends AppError {
  constructor(
    readonly subject: string,
    message: string,
    cause: unknown,
  ) {
    super('unavailable', message, { subject }, { cause });
    this.name = 'PublishUnavailableError';
  }
}

/** The stream answered and refused the message (a limit with discard "new", a failed expectation). */
export class PublishRejectedError extends AppError {
  constructor(
    readonly subject: string,
    readonly code: number,
    message: string,
    cause: unknown,
  ) {
    super('unavailable', message, { subject, code }, { cause });
    this.name = 'PublishRejectedError';
  }
}

/**
 * The message can never be stored, however often it is sent: larger than the server's max_payload
 * (from its INFO) or the stream's max_msg_size. Not an outage: an HTTP caller answers 413.
 */
export class PublishTooLargeError extends AppError {
  constructor(
    readonly subject: string,
    message: string,
    /** Bytes of the message and the limit, when known (a stream's refusal says neither). */
    readonly limits: { size?: number; max?: number } = {},
  ) {
    super('payload_too_large', message, { subject, ...limits });
    this.name = 'PublishTooLargeError';
  }
}

export function createPublisher<M>(nc: NatsConnection, codec: MessageCodec, settings: PublisherSettings = {}): Publisher<M> {
  const js = jetstream(nc);
  const timeoutMs = settings.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  return {
    publish: (subject, message, opts) => {
      // An encode failure is a bug in the caller (a message that does not fit its subject): let it throw as is.
      const { data, schema } = codec.encode(subject, message);
      return publishEncoded(js, subject, data, schema, opts, timeoutMs, messageSpanAttributes(message));
    },
  };
}

/** Publishes bytes that are already encoded; the consumer uses it for dead letters. */
export async function publishEncoded(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  schema: string,
  opts: PublishOptions,
  timeoutMs: number,
  /** Extra attributes for the publish span (the job, pool and runner the message is about). */
  spanAttributes: Attributes = {},
): Promise<PublishResult> {
  if (!opts.msgId) throw new TypeError(`publish to ${subject}: msgId is required (a deterministic id makes retries safe)`);
  const parent = opts.traceContext ?? otelContext.active();
  const span = tracer().startSpan(
    `publish ${subject}`,
    { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': opts.msgId, ...spanAttributes } },
    parent,
  );
  const h = natsHeaders();
  for (const [k, v] of Object.entries(opts.headers ?? {})) h.set(k, v);
  h.set(HEADER_MSG_ID, opts.msgId);
  h.set(HEADER_SCHEMA, schema);
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(parent, span), carrier, {
    set: (c: Record<string, string>, k: string, v: string) => {
      c[k] = v;
    },
  });
  for (const [k, v] of Object.entries(carrier)) h.set(k, v);
  try {
    const ack = await js.publish(subject, data, { msgID: opts.msgId, headers: h, timeout: timeoutMs });
    span.setAttribute('messaging.nats.stream_sequence', ack.seq);
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw classify(subject, err);
  } finally {
    span.end();
  }
}

function classify(subject: string, err: unknown): Error {
  if (err instanceof JetStreamApiError) {
    return new PublishRejectedError(subject, err.code, `stream refused the message on ${subject}: ${err.message}`, err);
  }
  // A malformed subject or header is the caller's bug, not an outage.
  if (err instanceof natsErrors.InvalidSubjectError || err instanceof natsErrors.InvalidArgumentError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new PublishUnavailableError(subject, `no PubAck for ${subject} (NATS down, or no stream captures the subject): ${detail}`, err);
}
