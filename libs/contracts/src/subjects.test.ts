import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaForSubject, UnknownSubjectError } from './codec.js';
import { DeadLetterSchema } from './gen/runnerhub/v1/dead_letter_pb.js';
import {
  CreateRunnerCommandSchema,
  ExecutorHeartbeatSchema,
  InventoryRequestSchema,
  InventoryResponseSchema,
  RemoveRunnerCommandSchema,
} from './gen/runnerhub/v1/executor_pb.js';
import {
  InstallationEventSchema,
  InstallationRepositoriesEventSchema,
  PingEventSchema,
  WorkflowJobEventSchema,
  WorkflowRunEventSchema,
} from './gen/runnerhub/v1/github_pb.js';
import { PoolDefinitionSchema } from './gen/runnerhub/v1/pools_pb.js';
import type { DescMessage } from '@bufbuild/protobuf';
import { registrationsFor, subjectMatches, subjectRegistry } from './registry.js';
import { headerNames, streamDefinitions, streamForSubject } from './streams.js';
import type { StreamDefinition } from './streams.js';
import {
  deadLetterSubject,
  executorCommandSubject,
  executorHeartbeatSubject,
  executorInventorySubject,
  executorVerbs,
  githubEvents,
  githubSubject,
  InvalidSubjectTokenError,
  jobSubjects,
  poolDefinitionKvSubject,
  poolSubjects,
  runnerSubjects,
} from './subjects.js';

const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
// Names that look like other subjects' fixed words are the likeliest to collide.
const trickyToken = fc.oneof(
  token,
  fc.constantFrom('create', 'remove', 'inventory', 'heartbeat', 'executor', 'gh', 'job', 'dead', 'none', 'queued'),
  fc.constantFrom(...Object.keys(streamDefinitions)),
);

// True when some concrete subject matches both patterns.
function patternsOverlap(a: string[], b: string[]): boolean {
  const [x, ...restA] = a;
  const [y, ...restB] = b;
  if (x === undefined || y === undefined) return x === y;
  if (x === '>') return true;
  if (y === '>') return true;
  if (x !== '*' && y !== '*' && x !== y) return false;
  return patternsOverlap(restA, restB);
}

const githubSchemas: Record<(typeof githubEvents)[number], DescMessage> = {
  workflow_job: WorkflowJobEventSchema,
  workflow_run: WorkflowRunEventSchema,
  installation: InstallationEventSchema,
  installation_repositories: InstallationRepositoriesEventSchema,
  ping: PingEventSchema,
};
const commandSchemas: Record<(typeof executorVerbs)[number], DescMessage> = {
  create: CreateRunnerCommandSchema,
  remove: RemoveRunnerCommandSchema,
  inventory: InventoryRequestSchema,
};

// Every subject the builders can produce, with the schema it must resolve to.
const builtSubject: fc.Arbitrary<{ subject: string; schema: DescMessage }> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...githubEvents), fc.option(trickyToken, { nil: undefined }))
    .map(([event, action]) => ({ subject: githubSubject(event, action), schema: githubSchemas[event] })),
  fc
    .tuple(trickyToken, fc.constantFrom(...executorVerbs))
    .map(([host, verb]) => ({ subject: executorCommandSubject(host, verb), schema: commandSchemas[verb] })),
  trickyToken.map((host) => ({ subject: executorHeartbeatSubject(host), schema: ExecutorHeartbeatSchema })),
  trickyToken.map((host) => ({ subject: executorInventorySubject(host), schema: InventoryResponseSchema })),
  fc
    .tuple(trickyToken, trickyToken)
    .map(([stream, consumer]) => ({ subject: deadLetterSubject(stream, consumer), schema: DeadLetterSchema })),
  trickyToken.map((pool) => ({ subject: poolDefinitionKvSubject(pool), schema: PoolDefinitionSchema })),
  fc
    .constantFrom(...Object.values(jobSubjects), ...Object.values(runnerSubjects), ...Object.values(poolSubjects))
    .map((subject) => ({ subject, schema: schemaForSubject(subject) })),
);

describe('subject builders and the registry', () => {
  it('resolve every built subject to exactly one schema, the intended one', () => {
    fc.assert(
      fc.property(builtSubject, ({ subject, schema }) => {
        const found = registrationsFor(subject);
        expect(found.map((r) => r.schema.typeName)).toEqual([schema.typeName]);
      }),
      { numRuns: 2000 },
    );
  });

  it('never resolve any subject to two schemas', () => {
    const anySubject = fc
      .array(fc.oneof(trickyToken, fc.constantFrom('cmd', 'runner', 'pool', '$KV', 'rh-pools', 'workflow_job')), {
        minLength: 1,
        maxLength: 5,
      })
      .map((tokens) => tokens.join('.'));
    fc.assert(
      fc.property(anySubject, (subject) => {
        expect(registrationsFor(subject).length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 3000 },
    );
  });

  it('put every published subject into exactly one stream', () => {
    fc.assert(
      fc.property(builtSubject, ({ subject }) => {
        if (subject.startsWith('$KV.')) return; // KV buckets own their streams
        const all: StreamDefinition[] = Object.values(streamDefinitions);
        const capturing = all.filter((s) => s.subjects.some((p) => subjectMatches(p, subject)));
        expect(capturing.map((s) => s.name)).toHaveLength(1);
        expect(streamForSubject(subject)?.name).toBe(capturing[0]?.name);
      }),
      { numRuns: 1000 },
    );
  });

  it('keep stream subjects disjoint, as NATS requires', () => {
    const all = Object.values(streamDefinitions).flatMap((s) => s.subjects.map((p) => ({ stream: s.name, p })));
    const overlaps = all.flatMap((a, i) =>
      all.slice(i + 1).filter((b) => patternsOverlap(a.p.split('.'), b.p.split('.'))).map((b) => `${a.p} ~ ${b.p}`),
    );
    expect(overlaps).toEqual([]);
    expect(patternsOverlap(['dead', '>'], ['dead', 'JOBS', '*'])).toBe(true);
    expect(patternsOverlap(['job', '*'], ['job', 'a', 'b'])).toBe(false);
  });

  it('keep the persisted stream names, subjects and headers (renaming strands stored messages)', () => {
    const persisted = Object.fromEntries(Object.values(streamDefinitions).map((s) => [s.name, s.subjects]));
    expect(persisted).toEqual({
      GITHUB: ['gh.>'],
      JOBS: ['job.>', 'pool.demand'],
      RUNNERS: ['runner.>', 'pool.snapshot'],
      EXECUTOR: ['cmd.executor.>'],
      HOSTS: ['executor.>'],
      DEAD: ['dead.>'],
    });
    expect(headerNames).toEqual({ msgId: 'Nats-Msg-Id', traceparent: 'traceparent', tracestate: 'tracestate', schema: 'rh-schema', replayFor: 'rh-replay-for' });
    expect(streamForSubject('gh.push.created')?.name).toBe('GITHUB');
    expect(streamForSubject('$KV.rh-pools.linux')).toBeUndefined();
  });

  it('reject names that would change the subject shape', () => {
    const bad = fc.oneof(
      fc.constant(''),
      fc.string({ minLength: 1 }).filter((s) => /[^A-Za-z0-9_-]/.test(s)),
      fc.constantFrom('nas.local', '*', '>', 'a b', 'pool\n'),
    );
    fc.assert(
      fc.property(bad, (name) => {
        expect(() => executorCommandSubject(name, 'create')).toThrow(InvalidSubjectTokenError);
        expect(() => executorHeartbeatSubject(name)).toThrow(InvalidSubjectTokenError);
        expect(() => deadLetterSubject('JOBS', name)).toThrow(InvalidSubjectTokenError);
        expect(() => poolDefinitionKvSubject(name)).toThrow(InvalidSubjectTokenError);
        if (name !== '') expect(() => githubSubject('workflow_job', name)).toThrow(InvalidSubjectTokenError);
      }),
    );
  });

  it('give events without an action a fixed third token', () => {
    expect(githubSubject('ping')).toBe('gh.ping.none');
    expect(githubSubject('ping', '')).toBe('gh.ping.none');
    expect(() => schemaForSubject('gh.ping')).toThrow(UnknownSubjectError);
  });

  it('register each pattern once', () => {
    const patterns = subjectRegistry.map((r) => r.pattern);
    expect(new Set(patterns).size).toBe(patterns.length);
  });
});
