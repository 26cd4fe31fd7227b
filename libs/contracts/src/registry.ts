// The one map from subject to message type, at the type level (so publish and consume are checked by
// the compiler) and at run time (so the codec picks the schema from the subject alone).
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import type { DeadLetter } from './gen/runnerhub/v1/dead_letter_pb.js';
import { DeadLetterSchema } from './gen/runnerhub/v1/dead_letter_pb.js';
import type { DemandSnapshot } from './gen/runnerhub/v1/demand_pb.js';
import { DemandSnapshotSchema } from './gen/runnerhub/v1/demand_pb.js';
import type {
  CreateRunnerCommand,
  ExecutorHeartbeat,
  InventoryRequest,
  InventoryResponse,
  RemoveRunnerCommand,
} from './gen/runnerhub/v1/executor_pb.js';
import {
  CreateRunnerCommandSchema,
  ExecutorHeartbeatSchema,
  InventoryRequestSchema,
  InventoryResponseSchema,
  RemoveRunnerCommandSchema,
} from './gen/runnerhub/v1/executor_pb.js';
import type {
  InstallationEvent,
  InstallationRepositoriesEvent,
  PingEvent,
  WorkflowJobEvent,
  WorkflowRunEvent,
} from './gen/runnerhub/v1/github_pb.js';
import {
  InstallationEventSchema,
  InstallationRepositoriesEventSchema,
  PingEventSchema,
  WorkflowJobEventSchema,
  WorkflowRunEventSchema,
} from './gen/runnerhub/v1/github_pb.js';
import type { JobCompleted, JobQueued, JobStarted, JobStuck, JobUnmatched } from './gen/runnerhub/v1/jobs_pb.js';
import {
  JobCompletedSchema,
  JobQueuedSchema,
  JobStartedSchema,
  JobStuckSchema,
  JobUnmatchedSchema,
} from './gen/runnerhub/v1/jobs_pb.js';
import type { PoolDefinition, PoolSnapshot } from './gen/runnerhub/v1/pools_pb.js';
import { PoolDefinitionSchema, PoolSnapshotSchema } from './gen/runnerhub/v1/pools_pb.js';
import type {
  RunnerExited,
  RunnerFailed,
  RunnerRegistered,
  RunnerRemoved,
  RunnerRequested,
  RunnerStarted,
} from './gen/runnerhub/v1/runners_pb.js';
import {
  RunnerExitedSchema,
  RunnerFailedSchema,
  RunnerRegisteredSchema,
  RunnerRemovedSchema,
  RunnerRequestedSchema,
  RunnerStartedSchema,
} from './gen/runnerhub/v1/runners_pb.js';
import type { POOL_DEFINITIONS_BUCKET } from './subjects.js';

/**
 * Every subject RunnerHub publishes, mapped to its message type. Build subjects with the builders in
 * subjects.ts; a `${string}` part stands for exactly one token there. Prefixes never overlap, so a
 * subject has exactly one type.
 */
export interface SubjectMessages {
  [subject: `gh.workflow_job.${string}`]: WorkflowJobEvent;
  [subject: `gh.workflow_run.${string}`]: WorkflowRunEvent;
  [subject: `gh.installation.${string}`]: InstallationEvent;
  [subject: `gh.installation_repositories.${string}`]: InstallationRepositoriesEvent;
  [subject: `gh.ping.${string}`]: PingEvent;
  'job.queued': JobQueued;
  'job.unmatched': JobUnmatched;
  'job.started': JobStarted;
  'job.completed': JobCompleted;
  'job.stuck': JobStuck;
  'pool.demand': DemandSnapshot;
  'runner.requested': RunnerRequested;
  'runner.registered': RunnerRegistered;
  'runner.started': RunnerStarted;
  'runner.exited': RunnerExited;
  'runner.removed': RunnerRemoved;
  'runner.failed': RunnerFailed;
  'pool.snapshot': PoolSnapshot;
  [subject: `cmd.executor.${string}.create`]: CreateRunnerCommand;
  [subject: `cmd.executor.${string}.remove`]: RemoveRunnerCommand;
  [subject: `cmd.executor.${string}.inventory`]: InventoryRequest;
  [subject: `executor.heartbeat.${string}`]: ExecutorHeartbeat;
  [subject: `executor.inventory.${string}`]: InventoryResponse;
  [subject: `dead.${string}`]: DeadLetter;
  [subject: `$KV.${typeof POOL_DEFINITIONS_BUCKET}.${string}`]: PoolDefinition;
}

export type Subject = keyof SubjectMessages;

/** The generated schema for subject `S`. */
export type SubjectSchema<S extends Subject> = GenMessage<SubjectMessages[S]>;

/** What may be published on `S`: a created message or a plain init object (every field optional). */
export type SubjectInit<S extends Subject> = MessageInitShape<SubjectSchema<S>>;

export interface SubjectRegistration {
  /** A NATS subject pattern: `*` is one token. */
  readonly pattern: string;
  readonly schema: DescMessage;
}

// The pattern doubles as a sample subject of the type-level key, so the compiler checks that the
// runtime schema is the one SubjectMessages names.
function register<S extends Subject>(pattern: S, schema: SubjectSchema<S>): { pattern: S; schema: SubjectSchema<S> } {
  return { pattern, schema };
}

const registrations = [
  register('gh.workflow_job.*', WorkflowJobEventSchema),
  register('gh.workflow_run.*', WorkflowRunEventSchema),
  register('gh.installation.*', InstallationEventSchema),
  register('gh.installation_repositories.*', InstallationRepositoriesEventSchema),
  register('gh.ping.*', PingEventSchema),
  register('job.queued', JobQueuedSchema),
  register('job.unmatched', JobUnmatchedSchema),
  register('job.started', JobStartedSchema),
  register('job.completed', JobCompletedSchema),
  register('job.stuck', JobStuckSchema),
  register('pool.demand', DemandSnapshotSchema),
  register('runner.requested', RunnerRequestedSchema),
  register('runner.registered', RunnerRegisteredSchema),
  register('runner.started', RunnerStartedSchema),
  register('runner.exited', RunnerExitedSchema),
  register('runner.removed', RunnerRemovedSchema),
  register('runner.failed', RunnerFailedSchema),
  register('pool.snapshot', PoolSnapshotSchema),
  register('cmd.executor.*.create', CreateRunnerCommandSchema),
  register('cmd.executor.*.remove', RemoveRunnerCommandSchema),
  register('cmd.executor.*.inventory', InventoryRequestSchema),
  register('executor.heartbeat.*', ExecutorHeartbeatSchema),
  register('executor.inventory.*', InventoryResponseSchema),
  register('dead.*.*', DeadLetterSchema),
  register('$KV.rh-pools.*', PoolDefinitionSchema),
];

type RegisteredPattern = (typeof registrations)[number]['pattern'];
type Unregistered = {
  [K in keyof SubjectMessages]-?: [Extract<RegisteredPattern, K>] extends [never] ? K : never;
}[keyof SubjectMessages];
// Does not compile, naming the subject, when SubjectMessages gains a key without a runtime schema.
const _everySubjectRegistered: [Unregistered] extends [never] ? true : Unregistered = true;

/** The run-time registry: every subject pattern and its schema. */
export const subjectRegistry: readonly SubjectRegistration[] = registrations;

/** NATS matching of a concrete subject against a pattern (`*` = one token, `>` = one or more). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** A subject one can publish to: non-empty tokens, no wildcards, no whitespace. */
export function isConcreteSubject(subject: string): boolean {
  return subject.split('.').every((t) => t !== '' && t !== '*' && t !== '>' && !/\s/.test(t));
}

/** Every registration whose pattern matches `subject` (more than one would be a registry bug). */
export function registrationsFor(subject: string): SubjectRegistration[] {
  if (!isConcreteSubject(subject)) return [];
  return subjectRegistry.filter((r) => subjectMatches(r.pattern, subject));
}
