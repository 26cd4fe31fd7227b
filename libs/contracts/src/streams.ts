// JetStream streams as plain data; libs/platform's ensureStreams provisions them.
//
// STREAM NAMES, THEIR SUBJECTS, AND THE DURABLE CONSUMER NAMES THAT SERVICES ATTACH TO THEM ARE
// PERSISTED DATA. They live in the NATS server's store. Renaming a stream creates an empty new one
// next to the old, whose messages nobody reads any more; renaming a durable consumer replays the
// whole stream to the new one. Never rename; add a new stream or consumer and migrate on purpose.
// Changing a stream's subjects or limits is applied in place by ensureStreams, but retention and
// storage cannot be changed on an existing stream: NATS refuses, and the service will not start.
import { subjectMatches } from './registry.js';

// The one definition of a stream's shape; libs/platform's ensureStreams takes it as is.
export interface StreamDefinition {
  name: string;
  subjects: string[];
  retention: 'limits' | 'workqueue' | 'interest';
  /** Milliseconds (NATS itself counts nanoseconds; the platform converts). */
  maxAgeMs: number;
  /** Milliseconds: how long a Nats-Msg-Id is remembered for deduplication. */
  duplicateWindowMs: number;
  storage: 'file' | 'memory';
  discard: 'old' | 'new';
  maxMsgsPerSubject?: number;
  description?: string;
}

export type StreamName = 'GITHUB' | 'JOBS' | 'RUNNERS' | 'EXECUTOR' | 'HOSTS' | 'DEAD';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
// NATS's own default; longer windows cost memory per remembered id.
const DEFAULT_DUPLICATE_WINDOW_MS = 2 * MINUTE_MS;

export const streamDefinitions: Readonly<Record<StreamName, StreamDefinition>> = {
  // Webhook deliveries. The 10-minute window absorbs GitHub's and our redeliveries of one GUID.
  GITHUB: {
    name: 'GITHUB',
    subjects: ['gh.>'],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: 10 * MINUTE_MS,
    storage: 'file',
    discard: 'old',
  },
  // Job facts and the scheduler's demand level.
  JOBS: {
    name: 'JOBS',
    subjects: ['job.>', 'pool.demand'],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    storage: 'file',
    discard: 'old',
  },
  // Runner facts and the pool-manager's supply level.
  RUNNERS: {
    name: 'RUNNERS',
    subjects: ['runner.>', 'pool.snapshot'],
    retention: 'limits',
    maxAgeMs: 7 * DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    storage: 'file',
    discard: 'old',
  },
  // Commands to executors: each is done once, by its host's executor, then deleted. A day old
  // command is stale (its JIT config has long expired), so age it out rather than keep it forever.
  // Discard new: if the stream is ever full, the publisher sees an error instead of a command
  // silently evicted before its executor ran it.
  EXECUTOR: {
    name: 'EXECUTOR',
    subjects: ['cmd.executor.>'],
    retention: 'workqueue',
    maxAgeMs: DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    storage: 'file',
    discard: 'new',
  },
  // Heartbeats and inventory answers from executors: levels, so only the latest few per host
  // matter. Not in the architecture's first table: a work queue (EXECUTOR) admits one consumer per
  // subject, and a per-subject cap on RUNNERS would also cut runner facts.
  HOSTS: {
    name: 'HOSTS',
    subjects: ['executor.>'],
    retention: 'limits',
    maxAgeMs: HOUR_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    storage: 'file',
    discard: 'old',
    maxMsgsPerSubject: 10,
  },
  // Messages consumers gave up on; kept long enough to notice, inspect and replay.
  DEAD: {
    name: 'DEAD',
    subjects: ['dead.>'],
    retention: 'limits',
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
    storage: 'file',
    discard: 'old',
  },
};

/** Header names on every message. Persisted with each message, so also never to be renamed. */
export const headerNames = {
  msgId: 'Nats-Msg-Id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  schema: 'rh-schema',
  /** On a replayed dead letter: the durable consumer that gave up on it, the only one to handle it again. */
  replayFor: 'rh-replay-for',
} as const;

/**
 * KV buckets that hold leases (one replica runs a loop). The TTL is bucket-wide, so the name carries
 * the lease length. Persisted: renaming one lets an old and a new replica both lead during an upgrade.
 */
export const leaseBuckets = {
  ttl30s: { bucket: 'rh-leases-30s', ttlMs: 30_000 },
  // For loops whose pause after a crashed leader is noticed (the pool-manager's reconcile pass).
  ttl10s: { bucket: 'rh-leases-10s', ttlMs: 10_000 },
} as const;

/** The stream that captures `subject`, or undefined when none does (a publish would get no PubAck). */
export function streamForSubject(subject: string): StreamDefinition | undefined {
  return Object.values(streamDefinitions).find((s) => s.subjects.some((pattern) => subjectMatches(pattern, subject)));
}
