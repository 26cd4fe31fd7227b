// Bytes on the wire: protobuf binary, schema chosen by subject. The platform's NATS layer takes this
// codec and never imports generated code itself.
import { create, fromBinary, isMessage, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, Message } from '@bufbuild/protobuf';
import { registrationsFor, subjectMatches } from './registry.js';
import type { Subject, SubjectInit, SubjectMessages } from './registry.js';

export interface MessageCodec {
  /** Encodes `message` (a generated message or its init shape) for `subject`; returns bytes and the schema type name. */
  encode(subject: string, message: unknown): { data: Uint8Array; schema: string };
  /** Decodes bytes published on `subject`; throws UndecodableMessageError (a named export) when the bytes or the schema name do not fit. */
  decode(subject: string, data: Uint8Array, schema?: string): unknown;
}

/** No message type is registered for the subject: a programming error, or a subject from a newer version. */
export class UnknownSubjectError extends Error {
  override readonly name = 'UnknownSubjectError';
  constructor(readonly subject: string) {
    super(`no message type is registered for subject ${JSON.stringify(subject)}`);
  }
}

/** The bytes cannot be read as the subject's message: never retry, dead-letter it. */
export class UndecodableMessageError extends Error {
  override readonly name = 'UndecodableMessageError';
  constructor(
    readonly subject: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot decode message on ${JSON.stringify(subject)}: ${reason}`, options);
  }
}

/** The value given to `encode` is not (and cannot become) the subject's message type. */
export class UnencodableMessageError extends Error {
  override readonly name = 'UnencodableMessageError';
  constructor(
    readonly subject: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot encode message for ${JSON.stringify(subject)}: ${reason}`, options);
  }
}

/** The schema registered for `subject`; throws UnknownSubjectError. */
/** Subjects repeat (one per event and action); matching them against every pattern each time showed in profiles. */
const resolved = new Map<string, DescMessage>();
/** Bounded: subjects with per-host or per-pool tokens are many, but not unbounded in one process. */
const RESOLVED_MAX = 10_000;

export function schemaForSubject(subject: string): DescMessage {
  const hit = resolved.get(subject);
  if (hit) return hit;
  const schema = lookup(subject);
  if (resolved.size >= RESOLVED_MAX) resolved.clear();
  resolved.set(subject, schema);
  return schema;
}

function lookup(subject: string): DescMessage {
  const found = registrationsFor(subject);
  // More than one match would be a registry bug; the property tests guard against it, and refusing
  // here keeps a bug from picking a schema by registration order.
  if (found.length !== 1 || found[0] === undefined) throw new UnknownSubjectError(subject);
  return found[0].schema;
}

function toMessage(subject: string, schema: DescMessage, message: unknown): Message {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new UnencodableMessageError(subject, `expected an object for ${schema.typeName}`);
  }
  if ('$typeName' in message) {
    if (isMessage(message, schema)) return message;
    throw new UnencodableMessageError(subject, `got ${String(message.$typeName)}, expected ${schema.typeName}`);
  }
  try {
    return create(schema, message as Record<string, unknown>);
  } catch (err) {
    throw new UnencodableMessageError(subject, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function encode(subject: string, message: unknown): { data: Uint8Array; schema: string } {
  const schema = schemaForSubject(subject);
  const msg = toMessage(subject, schema, message);
  try {
    return { data: toBinary(schema, msg), schema: schema.typeName };
  } catch (err) {
    // protobuf-es validates field values while writing (wrong type, out of range).
    throw new UnencodableMessageError(subject, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function decode(subject: string, data: Uint8Array, schemaName?: string): unknown {
  const schema = schemaForSubject(subject);
  // An absent NATS header reads as '' in nats.js, so empty means "not given", not "wrong".
  if (schemaName !== undefined && schemaName !== '' && schemaName !== schema.typeName) {
    throw new UndecodableMessageError(subject, `header says ${schemaName}, subject carries ${schema.typeName}`);
  }
  try {
    return fromBinary(schema, data);
  } catch (err) {
    throw new UndecodableMessageError(subject, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** The codec for every RunnerHub subject: protobuf binary, schema from the subject registry. */
export const contractsCodec: MessageCodec = { encode, decode };

/** Typed encode for callers that hold a literal subject. */
export function encodeMessage<S extends Subject>(
  subject: S,
  message: SubjectInit<S>,
): { data: Uint8Array; schema: string } {
  return encode(subject, message);
}

/** Typed decode: the message type follows from the subject. */
export function decodeMessage<S extends Subject>(subject: S, data: Uint8Array, schemaName?: string): SubjectMessages[S] {
  return decode(subject, data, schemaName) as SubjectMessages[S];
}

/**
 * Typed decode of a message that arrived on a subscription to `pattern` (`'executor.heartbeat.*'`):
 * the type follows from the pattern, and a subject outside it throws UndecodableMessageError, so the
 * type is checked at run time rather than assumed by a cast.
 */
export function decodeFrom<P extends Subject>(pattern: P, subject: string, data: Uint8Array, schemaName?: string): SubjectMessages[P] {
  if (!subjectMatches(pattern, subject)) throw new UndecodableMessageError(subject, `not a subject of ${pattern}`);
  return decode(subject, data, schemaName) as SubjectMessages[P];
}
