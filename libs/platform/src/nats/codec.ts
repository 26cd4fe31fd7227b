import { headerNames, type DeadLetterSchema, type MessageInitShape } from '@runnerhub/contracts';

/** Bytes and back, keyed by subject: `contractsCodec` from @runnerhub/contracts (tests use their own). */
export type { MessageCodec } from '@runnerhub/contracts';
/** `dead.<stream>.<durable>`: the DEAD stream captures `dead.>`. Defined (and persisted) in @runnerhub/contracts. */
export { deadLetterSubject } from '@runnerhub/contracts';

// Header names every message carries, persisted with it: @runnerhub/contracts defines them.
export const HEADER_MSG_ID = headerNames.msgId;
export const HEADER_TRACEPARENT = headerNames.traceparent;
export const HEADER_TRACESTATE = headerNames.tracestate;
export const HEADER_SCHEMA = headerNames.schema;
/**
 * On a replayed dead letter: the durable consumer that gave up on it. Only that consumer handles it
 * again; the stream's other consumers handled the original already and skip it (a fact counted
 * twice, a command run twice is what a replay must not cause).
 */
export const HEADER_REPLAY_FOR = headerNames.replayFor;

/**
 * A NATS subject filter turned into a template type: `*` matches one token's text, a trailing `>`
 * the rest. (`*` becomes `${string}`, which may span tokens: a sound over-approximation.)
 */
export type FilterPattern<F extends string> = F extends '>'
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

/** What the consumer publishes to the DEAD stream: the fields of runnerhub.v1.DeadLetter, whose names proto/ owns (checked below), as a plain shape any codec can carry. */
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

// Does not compile when the shape above drifts from the proto message the codec encodes it as.
const _deadLetterFitsProto = (d: DeadLetter): MessageInitShape<typeof DeadLetterSchema> => d;
void _deadLetterFitsProto;
