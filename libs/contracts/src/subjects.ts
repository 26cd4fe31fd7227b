// NATS subject names of every message RunnerHub publishes.
//
// THESE ARE PERSISTED DATA. Subjects are stored with every message in JetStream, stream definitions
// capture them, durable consumers filter on them and dead letters record them. Renaming one strands
// the messages already stored under the old name and silently empties consumers that filter on it.
// Add new subjects; never rename or reuse one. A change here needs a migration plan, not a refactor.

/** GitHub webhook events the gateway publishes; every other event is answered and counted as ignored. */
export const githubEvents = [
  'workflow_job',
  'workflow_run',
  'installation',
  'installation_repositories',
  'ping',
] as const;
export type GithubEvent = (typeof githubEvents)[number];

/** The action token for events that have no `action` (ping), so every `gh.` subject has three tokens. */
export const NO_ACTION = 'none';

/** Job facts published by the scheduler (stream JOBS). */
export const jobSubjects = {
  queued: 'job.queued',
  unmatched: 'job.unmatched',
  started: 'job.started',
  completed: 'job.completed',
  stuck: 'job.stuck',
} as const;

/** Runner facts published by the pool-manager and the executors (stream RUNNERS). */
export const runnerSubjects = {
  requested: 'runner.requested',
  registered: 'runner.registered',
  started: 'runner.started',
  exited: 'runner.exited',
  removed: 'runner.removed',
  failed: 'runner.failed',
} as const;

/** Periodic levels: demand from the scheduler (stream JOBS), supply from the pool-manager (stream RUNNERS). */
export const poolSubjects = {
  demand: 'pool.demand',
  snapshot: 'pool.snapshot',
} as const;

export const executorVerbs = ['create', 'remove', 'inventory'] as const;
export type ExecutorVerb = (typeof executorVerbs)[number];

/** KV bucket holding pool definitions (key = pool name), written by the pool-manager. Persisted data too. */
export const POOL_DEFINITIONS_BUCKET = 'rh-pools';

/** Thrown by the builders when a name cannot be one subject token. */
export class InvalidSubjectTokenError extends Error {
  override readonly name = 'InvalidSubjectTokenError';
  constructor(
    readonly part: string,
    readonly value: string,
  ) {
    super(`${part} ${JSON.stringify(value)} cannot be a NATS subject token: use letters, digits, '-' and '_' only`);
  }
}

// Narrower than what NATS allows on purpose: a '.' in a host or pool name would add a token and
// route the message to a different subject, and '*' or '>' would make it a wildcard.
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** True when `value` can be used as one subject token (pool, host, action, stream or consumer name). */
export function isSubjectToken(value: string): boolean {
  return TOKEN.test(value);
}

function token(part: string, value: string): string {
  if (!TOKEN.test(value)) throw new InvalidSubjectTokenError(part, value);
  return value;
}

/** `gh.<event>.<action>`; `action` may be omitted (or empty) for events without one. */
export function githubSubject<E extends GithubEvent>(event: E, action?: string): `gh.${E}.${string}` {
  const act = action === undefined || action === '' ? NO_ACTION : token('action', action);
  return `gh.${token('event', event) as E}.${act}`;
}

/** `cmd.executor.<host>.<verb>`: commands for the executor on one Docker host. */
export function executorCommandSubject<V extends ExecutorVerb>(host: string, verb: V): `cmd.executor.${string}.${V}` {
  return `cmd.executor.${token('host', host)}.${token('verb', verb) as V}`;
}

/** `executor.heartbeat.<host>`. */
export function executorHeartbeatSubject(host: string): `executor.heartbeat.${string}` {
  return `executor.heartbeat.${token('host', host)}`;
}

/** `executor.inventory.<host>`: the answer to an inventory command. */
export function executorInventorySubject(host: string): `executor.inventory.${string}` {
  return `executor.inventory.${token('host', host)}`;
}

/** `dead.<stream>.<consumer>`: where a consumer parks a message it gave up on. */
export function deadLetterSubject(stream: string, consumer: string): `dead.${string}` {
  return `dead.${token('stream', stream)}.${token('consumer', consumer)}`;
}

/** The subject behind a pool definition's KV key, for encoding and decoding KV values with the codec. */
export function poolDefinitionKvSubject(pool: string): `$KV.${typeof POOL_DEFINITIONS_BUCKET}.${string}` {
  return `$KV.${POOL_DEFINITIONS_BUCKET}.${token('pool', pool)}`;
}

/** Filter subjects for durable consumers. Persisted data as well: they are stored in consumer configs. */
export const subjectFilters = {
  github: 'gh.>',
  githubEvent: (event: GithubEvent): string => `gh.${token('event', event)}.*`,
  jobs: 'job.*',
  runners: 'runner.*',
  executorCommands: (host: string): string => `cmd.executor.${token('host', host)}.*`,
  heartbeats: 'executor.heartbeat.*',
  inventories: 'executor.inventory.*',
  dead: 'dead.>',
} as const;
