/**
 * What this layer needs from the contracts: turn a message into bytes and back, keyed by subject.
 * `@runnerhub/contracts` implements it (`contractsCodec`); the platform does not depend on it.
 */
export interface MessageCodec {
  /** `schema` is the message's type name (e.g. `runnerhub.v1.JobQueued`), sent as `rh-schema`. */
  encode(subject: string, message: unknown): { data: Uint8Array; schema: string };
  /** Throws on bytes it cannot decode; the consumer dead-letters those at once. */
  decode(subject: string, data: Uint8Array, schema?: string): unknown;
}

/** Header names every message carries. They are persisted with each message: never rename them. */
export const HEADER_MSG_ID = 'Nats-Msg-Id';
export const HEADER_TRACEPARENT = 'traceparent';
export const HEADER_TRACESTATE = 'tracestate';
export const HEADER_SCHEMA = 'rh-schema';
/**
 * On a replayed dead letter: the durable consumer that gave up on it. Only that consumer handles it
 * again; the stream's other consumers handled the original already and skip it (a fact counted
 * twice, a command run twice is what a replay must not cause).
 */
export const HEADER_REPLAY_FOR = 'rh-replay-for';

/**
 * A NATS subject filter turned into a template type: `*` matches one token's text, a trailing `>`
 * the rest. (`*` becomes `${string}`, which may span tokens: a sound over-approximation.)
 */
type FilterPattern<F extends string> = F extends '>'
  ? string
  : F extends `${infer P}.>`
    ? `${FilterPattern<P>}.${string}`
    : F extends `${infer A}*${infer B}`
      ? `${A}${string}${FilterPattern<B>}`
      : F;

/** Union of the message types whose subjects (keys of the subject map M) match the filter F. */
export type MessageFor<M, F extends string> = F extends keyof M
  ? M[F]
  : { [K in keyof M]: K extends FilterPattern<F> ? M[K] : never }[keyof M];

/** F itself when it matches at least one subject of M; otherwise a type that names the mistake. */
export type CheckedFilter<M, F extends string> = [MessageFor<M, F>] extends [never] ? `filter "${F}" matches no subject in the subject map` : F;

/** What the consumer publishes to the DEAD stream. Field names are persisted: never rename them. */
export interface DeadLetter {
  stream: string;
  consumer: string;
  subject: string;
  streamSequence: bigint;
  deliveries: number;
  reason: string;
  /** The original message's bytes, unchanged, so it can be replayed. */
  data: Uint8Array;
  headers: Record<string, string>;
  failedAt: { seconds: bigint; nanos: number };
}

/** `dead.<stream>.<durable>`: the DEAD stream captures `dead.>`. Persisted: never change the shape. */
export function deadLetterSubject(stream: string, durable: string): string {
  return `dead.${stream}.${durable}`;
}
