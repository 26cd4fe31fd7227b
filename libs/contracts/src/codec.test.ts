import { create, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import {
  contractsCodec,
  decodeMessage,
  encodeMessage,
  UndecodableMessageError,
  UnencodableMessageError,
  UnknownSubjectError,
} from './codec.js';
import { DeadLetterSchema } from './gen/runnerhub/v1/dead_letter_pb.js';
import { RemoveRunnerCommandSchema } from './gen/runnerhub/v1/executor_pb.js';
import { WorkflowJobConclusion, WorkflowJobStatus } from './gen/runnerhub/v1/github_pb.js';
import { JobQueuedSchema, JobStartedSchema, PriorityClass, QueueReason } from './gen/runnerhub/v1/jobs_pb.js';
import { PlacementPolicy, PoolScopeKind, PullPolicy } from './gen/runnerhub/v1/pools_pb.js';
import { RemovalReason, RunnerState } from './gen/runnerhub/v1/runners_pb.js';
import type { Subject, SubjectInit, SubjectMessages } from './registry.js';
import {
  deadLetterSubject,
  executorCommandSubject,
  executorHeartbeatSubject,
  executorInventorySubject,
  githubSubject,
  jobSubjects,
  poolDefinitionKvSubject,
  poolSubjects,
  runnerSubjects,
} from './subjects.js';

const at = (iso: string) => ({ seconds: BigInt(Date.parse(iso) / 1000), nanos: 0 });
const repository = { id: 17n, owner: 'octo-org', name: 'api', fullName: 'octo-org/api' };
const runner = { runnerId: '0b7c', runnerName: 'rh-linux-0b7c', pool: 'linux', host: 'nas' };
const jobRef = {
  jobId: 29_679_449_065n,
  runId: 10_000_000_001n,
  runAttempt: 2,
  installationId: 3_456_996n,
  repository,
  organization: 'octo-org',
  workflowName: 'CI',
  jobName: 'test (20.x)',
  labels: ['self-hosted', 'linux', 'x64'],
  headSha: 'f00dfeed',
  headBranch: 'main',
  htmlUrl: 'https://github.com/octo-org/api/actions/runs/1/job/2',
};
const delivery = (event: string, action: string) => ({
  deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  event,
  action,
  installationId: 3_456_996n,
  hookId: '109948940',
  receivedAt: at('2026-01-02T03:04:05Z'),
  payload: new TextEncoder().encode(JSON.stringify({ action, zen: 'Keep it logically awesome.' })),
});

// One realistic message per subject family. `sample` types each init by its subject, so a sample of
// the wrong type does not compile.
function sample<S extends Subject>(subject: S, init: SubjectInit<S>): [string, unknown] {
  return [subject, init];
}

const samples: [string, unknown][] = [
  sample(githubSubject('workflow_job', 'completed'), {
    delivery: delivery('workflow_job', 'completed'),
    repository,
    organization: 'octo-org',
    jobId: 29_679_449_065n,
    runId: 10_000_000_001n,
    runAttempt: 1,
    workflowName: 'CI',
    jobName: 'build',
    labels: ['self-hosted', 'gpu'],
    status: WorkflowJobStatus.COMPLETED,
    conclusion: WorkflowJobConclusion.FAILURE,
    runnerId: 42n,
    runnerName: 'rh-gpu-a1',
    runnerGroupId: 1n,
    runnerGroupName: 'Default',
    headSha: 'abc',
    headBranch: 'main',
    htmlUrl: 'https://github.com/octo-org/api/actions/runs/1/job/2',
    createdAt: at('2026-01-02T03:00:00Z'),
    startedAt: at('2026-01-02T03:01:00Z'),
    completedAt: at('2026-01-02T03:04:00Z'),
    senderLogin: 'octocat',
    checkRunUrl: 'https://api.github.com/repos/octo-org/api/check-runs/2',
  }),
  sample(githubSubject('workflow_run', 'requested'), {
    delivery: delivery('workflow_run', 'requested'),
    repository,
    runId: 5n,
    runAttempt: 1,
    status: 'queued',
    triggerEvent: 'push',
  }),
  sample(githubSubject('installation', 'created'), {
    delivery: delivery('installation', 'created'),
    appId: 29_310n,
    accountLogin: 'octo-org',
    accountType: 'Organization',
    repositories: [repository],
  }),
  sample(githubSubject('installation_repositories', 'removed'), {
    delivery: delivery('installation_repositories', 'removed'),
    accountLogin: 'octo-org',
    repositoriesRemoved: [repository],
  }),
  sample(githubSubject('ping'), { delivery: delivery('ping', ''), hookId: 109_948_940n, zen: 'Design for failure.' }),
  sample(jobSubjects.queued, {
    job: jobRef,
    pool: 'linux',
    priority: PriorityClass.HIGH,
    queuedAt: at('2026-01-02T03:00:00Z'),
  }),
  sample(jobSubjects.unmatched, {
    job: jobRef,
    missingLabels: ['gpu'],
    closestPools: [{ pool: 'linux', missingLabels: ['gpu'] }],
  }),
  sample(jobSubjects.started, { job: jobRef, pool: 'linux', runnerId: 42n, runnerName: 'rh-linux-0b7c' }),
  sample(jobSubjects.completed, { job: jobRef, pool: 'linux', conclusion: WorkflowJobConclusion.CANCELLED }),
  sample(jobSubjects.stuck, {
    job: jobRef,
    pool: 'linux',
    expectedStartSeconds: 120,
    why: { reason: QueueReason.HOST_BUDGET_EXHAUSTED, detail: 'host nas has 0.5 of 2 CPUs free' },
  }),
  sample(poolSubjects.demand, {
    takenAt: at('2026-01-02T03:04:05Z'),
    pools: [{ pool: 'linux', pending: { critical: 1, normal: 3 }, overCap: 2, running: 4 }],
  }),
  sample(runnerSubjects.requested, { runner, forJobId: 29_679_449_065n }),
  sample(runnerSubjects.registered, { runner, githubRunnerId: 42n }),
  sample(runnerSubjects.started, { runner, containerId: 'c0ffee', image: 'ghcr.io/actions/actions-runner:2.330.0' }),
  sample(runnerSubjects.exited, {
    runner,
    containerId: 'c0ffee',
    exitCode: 137,
    oomKilled: true,
    lastLogLines: ['Listening for Jobs', 'Killed'],
    cpuSeconds: 12.5,
    peakMemoryBytes: 2_147_483_648n,
  }),
  sample(runnerSubjects.removed, { runner, reason: RemovalReason.IDLE_TIMEOUT }),
  sample(runnerSubjects.failed, { runner, message: 'pull access denied for ghcr.io/nope' }),
  sample(poolSubjects.snapshot, {
    pools: [{ pool: 'linux', desired: 3, runners: [{ state: RunnerState.IDLE, count: 2 }] }],
    hosts: [{ host: 'nas', cpus: 4, memoryBytes: 17_179_869_184n, healthy: true }],
  }),
  sample(executorCommandSubject('nas', 'create'), {
    runner,
    image: 'ghcr.io/actions/actions-runner:2.330.0',
    command: ['/home/runner/run.sh'],
    pullPolicy: PullPolicy.IF_MISSING,
    limits: { cpus: 2, memoryBytes: 4_294_967_296n, pidsLimit: 2048 },
    env: { RUNNER_ALLOW_RUNASROOT: '0' },
    secretEnv: { NPM_TOKEN: 'npm-token' },
    cacheVolumes: [{ name: 'rh-cache-npm', mountPath: '/home/runner/.npm' }],
    jitConfig: 'eyJqaXQiOiJjb25maWcifQ==',
  }),
  sample(executorCommandSubject('nas', 'remove'), { runner, reason: RemovalReason.ORPHAN }),
  sample(executorCommandSubject('nas', 'inventory'), { requestId: 'inv-1' }),
  sample(executorHeartbeatSubject('nas'), {
    host: 'nas',
    cpus: 4,
    memoryBytes: 17_179_869_184n,
    usedCpus: 1.5,
    runningContainers: 3,
    images: ['ghcr.io/actions/actions-runner:2.330.0'],
    labels: { arch: 'x64' },
  }),
  sample(executorInventorySubject('nas'), {
    requestId: 'inv-1',
    host: 'nas',
    containers: [{ containerId: 'c0ffee', name: 'rh-linux-0b7c', runnerId: '0b7c', pool: 'linux', state: 'running' }],
  }),
  sample(deadLetterSubject('JOBS', 'pool-manager-demand'), {
    stream: 'JOBS',
    consumer: 'pool-manager-demand',
    subject: 'job.queued',
    streamSequence: 9_007_199_254_740_993n,
    deliveries: 5,
    reason: 'handler failed: relation "pools.runners" does not exist',
    data: new Uint8Array([0x0a, 0x00, 0xff]),
    headers: { 'Nats-Msg-Id': 'job:1:queued', 'rh-schema': 'runnerhub.v1.JobQueued' },
    failedAt: { seconds: 1_767_323_045n, nanos: 500 },
  }),
  sample(poolDefinitionKvSubject('linux'), {
    name: 'linux',
    scope: { kind: PoolScopeKind.ORGANIZATION, installationId: 3_456_996n, organization: 'octo-org' },
    labels: ['self-hosted', 'linux'],
    image: 'ghcr.io/actions/actions-runner:2.330.0',
    minIdle: 1,
    maxRunners: 4,
    placement: PlacementPolicy.SPREAD,
    hostSelector: { arch: 'x64' },
  }),
];

describe('contractsCodec', () => {
  it.each(samples)('round-trips a message on %s', (subject, init) => {
    const { data, schema } = contractsCodec.encode(subject, init);
    const decoded = contractsCodec.decode(subject, data, schema) as Record<string, unknown>;
    expect(decoded.$typeName).toBe(schema);
    // Every field given survives the trip, including bigints, bytes, maps, enums and timestamps.
    expect(decoded).toMatchObject(init as Record<string, unknown>);
  });

  it('encodes a created message and its plain init to the same bytes', () => {
    const init = { job: jobRef, pool: 'linux', priority: PriorityClass.LOW };
    const fromInit = contractsCodec.encode('job.queued', init);
    const fromMessage = contractsCodec.encode('job.queued', create(JobQueuedSchema, init));
    expect(fromMessage).toEqual(fromInit);
    expect(fromInit.schema).toBe('runnerhub.v1.JobQueued');
  });

  it('decodes without a schema header, and treats an empty header as absent', () => {
    const { data } = contractsCodec.encode('job.started', { job: jobRef, runnerName: 'rh-linux-1' });
    expect(decodeMessage('job.started', data).runnerName).toBe('rh-linux-1');
    expect(decodeMessage('job.started', data, '').runnerName).toBe('rh-linux-1');
  });

  it('throws UnknownSubjectError for subjects nobody registered', () => {
    for (const subject of ['job.vanished', 'gh.push.created', 'runner', 'cmd.executor.nas.reboot', 'job.*', 'gh.>', '']) {
      expect(() => contractsCodec.encode(subject, {}), subject).toThrow(UnknownSubjectError);
      expect(() => contractsCodec.decode(subject, new Uint8Array()), subject).toThrow(UnknownSubjectError);
    }
  });

  it('throws UndecodableMessageError for corrupt bytes', () => {
    const { data } = contractsCodec.encode('runner.exited', { runner, lastLogLines: ['a'.repeat(200)] });
    const corrupt = [
      data.subarray(0, data.length - 10), // truncated inside a length-delimited field
      new Uint8Array([0xff, 0xff, 0xff]), // a varint that never ends
      new Uint8Array([0x0f, 0x01]), // wire type 7 does not exist
    ];
    for (const bytes of corrupt) {
      expect(() => contractsCodec.decode('runner.exited', bytes)).toThrow(UndecodableMessageError);
    }
  });

  it('throws UndecodableMessageError when the schema header names another type', () => {
    const { data } = contractsCodec.encode('job.queued', { pool: 'linux' });
    const err = (() => {
      try {
        contractsCodec.decode('job.queued', data, 'runnerhub.v1.JobStarted');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UndecodableMessageError);
    expect((err as UndecodableMessageError).subject).toBe('job.queued');
    expect((err as Error).message).toContain('runnerhub.v1.JobStarted');
  });

  it('refuses to encode a message of another type, or a value that does not fit the schema', () => {
    expect(() => contractsCodec.encode('job.queued', create(JobStartedSchema))).toThrow(UnencodableMessageError);
    expect(() => contractsCodec.encode('job.queued', 'job')).toThrow(UnencodableMessageError);
    expect(() => contractsCodec.encode('job.queued', null)).toThrow(UnencodableMessageError);
    expect(() => contractsCodec.encode('runner.exited', { exitCode: 'boom' })).toThrow(UnencodableMessageError);
    expect(() => contractsCodec.encode('runner.exited', { exitCode: 2 ** 40 })).toThrow(UnencodableMessageError);
  });

  it('reads the dead letter the NATS layer writes, field for field', () => {
    // The platform builds this plain object without importing generated code.
    const original = toBinary(JobQueuedSchema, create(JobQueuedSchema, { pool: 'linux' }));
    const subject = deadLetterSubject('JOBS', 'scheduler');
    const { data, schema } = contractsCodec.encode(subject, {
      stream: 'JOBS',
      consumer: 'scheduler',
      subject: 'job.queued',
      streamSequence: 7n,
      deliveries: 5,
      reason: 'boom',
      data: original,
      headers: { 'Nats-Msg-Id': 'x' },
      failedAt: { seconds: 1n, nanos: 2 },
    });
    expect(schema).toBe(DeadLetterSchema.typeName);
    const dead = decodeMessage(subject, data, schema);
    expect(dead.streamSequence).toBe(7n);
    expect(dead.failedAt).toMatchObject({ seconds: 1n, nanos: 2 });
    expect(decodeMessage('job.queued', dead.data).pool).toBe('linux');
  });
});

describe('compile-time registry', () => {
  it('does not compile when a message of the wrong type is given for a subject', () => {
    // Each @ts-expect-error below fails `tsc` (the package's typecheck) if the line compiles.
    expect(() =>
      // @ts-expect-error a JobStarted is not a JobQueued
      encodeMessage('job.queued', create(JobStartedSchema)),
    ).toThrow(UnencodableMessageError);
    expect(() =>
      // @ts-expect-error a remove command on the create subject
      encodeMessage(executorCommandSubject('nas', 'create'), create(RemoveRunnerCommandSchema)),
    ).toThrow(UnencodableMessageError);
    // @ts-expect-error the job id of a workflow_job event is a bigint, not a number
    const wrongField: SubjectInit<'gh.workflow_job.queued'> = { jobId: 1 };
    // @ts-expect-error a heartbeat subject carries ExecutorHeartbeat, not JobQueued
    const wrongType: SubjectMessages['executor.heartbeat.nas'] = create(JobQueuedSchema);
    // @ts-expect-error not a registered subject
    const unknown: SubjectMessages['job.vanished'] = create(JobQueuedSchema);
    const right: SubjectMessages['cmd.executor.nas.remove'] = create(RemoveRunnerCommandSchema);
    expect([wrongField, wrongType, unknown, right]).toHaveLength(4);
  });
});

describe('decodeFrom', () => {
  it('decodes a message received on a subject of the pattern, typed by the pattern', async () => {
    const { decodeFrom, encodeMessage } = await import('./codec.js');
    const { data } = encodeMessage('executor.heartbeat.h1', { host: 'h1' });
    const beat = decodeFrom('executor.heartbeat.*', 'executor.heartbeat.h1', data);
    expect(beat.host).toBe('h1');
  });
  it('refuses a subject outside the pattern instead of decoding it as the wrong type', async () => {
    const { decodeFrom, encodeMessage, UndecodableMessageError } = await import('./codec.js');
    const { data } = encodeMessage('pool.demand', {});
    expect(() => decodeFrom('executor.heartbeat.*', 'pool.demand', data)).toThrow(UndecodableMessageError);
  });
});
