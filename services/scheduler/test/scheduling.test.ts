import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  contractsCodec,
  create,
  githubSubject,
  POOL_DEFINITIONS_BUCKET,
  PoolDefinitionSchema,
  poolDefinitionKvSubject,
  streamDefinitions,
  timestampFromDate,
  WorkflowJobConclusion,
  WorkflowJobStatus,
  type DemandSnapshot,
  type JobQueued,
  type JobUnmatched,
  type SubjectMessages,
  RepositoryVisibility,
} from '@runnerhub/contracts';
import {
  connectNats,
  createHttpServer,
  createLogger,
  createPostgres,
  createPublisher,
  createReadiness,
  ensureStreams,
  migrate,
  startTelemetry,
  type Consumer,
  type Postgres,
} from '@runnerhub/platform';
import { registerJobRoutes } from '../src/http.js';
import { createTestDatabase, startNatsServer, waitFor, type NatsServer, type TestDatabase } from '@runnerhub/testing';
import { consumeWorkflowJobs, WORKFLOW_JOBS_DURABLE } from '../src/consumers.js';
import { createOriginLookup } from '../src/origin.js';
import { jobsQueries } from '../src/jobs.js';
import { startOutboxRelay, type OutboxRelay } from '../src/outbox.js';
import { startDemandPublisher, type DemandPublisher } from '../src/demand.js';
import { watchPoolStatuses } from '../src/pool-status.js';
import { watchPools, type PoolDirectory } from '../src/pools.js';
import { rematchWaitingJobs } from '../src/rematch.js';
import { NO_RULES } from '../src/rules.js';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const t0 = new Date('2026-11-24T10:00:00Z');

describe('scheduler: from workflow_job deliveries to job facts', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let testDb: TestDatabase;
  let db: Postgres;
  let pools: PoolDirectory;
  let relay: OutboxRelay;
  let consumer: Consumer;
  let demand: DemandPublisher;
  const publisher = () => createPublisher<SubjectMessages>(nc, contractsCodec);

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await ensureStreams(nc, Object.values(streamDefinitions));
    jsm = await jetstreamManager(nc);
    testDb = await createTestDatabase('scheduler');
    db = createPostgres({ url: testDb.url, schema: 'scheduler', poolMax: 6, applicationName: 'test', log });
    await migrate(db, fileURLToPath(new URL('../migrations/', import.meta.url)), log);
    // What the pool-manager publishes: one pool with the `docker` label.
    const kv = await new Kvm(nc).create(POOL_DEFINITIONS_BUCKET, { history: 1 });
    const small = create(PoolDefinitionSchema, { name: 'small', labels: ['docker'], maxRunners: 2 });
    await kv.put('small', contractsCodec.encode(poolDefinitionKvSubject('small'), small).data);
    pools = await watchPools(nc, log);
    await waitFor(() => pools.current().length === 1, { timeoutMs: 10_000, what: 'pool definitions' });
    relay = startOutboxRelay(db.pool, publisher(), log);
    demand = startDemandPublisher({ db: db.pool, publisher: publisher(), pools, caps: NO_RULES.caps, log });
    consumer = await consumeWorkflowJobs(nc, { db: db.pool, pools, rules: NO_RULES, origins: createOriginLookup({ gh: undefined, log }), relay, demand, log });
    consumer.resume();
  }, 60_000);

  afterAll(async () => {
    await consumer?.stop();
    await demand?.stop();
    await relay?.stop();
    await pools?.stop();
    await nc?.close();
    await nats?.stop();
    await db?.close();
    await testDb?.drop();
  });

  const event = (jobId: number, status: WorkflowJobStatus, labels: string[], extra: Partial<SubjectMessages['gh.workflow_job.x']> = {}) =>
    ({
      $typeName: 'runnerhub.v1.WorkflowJobEvent',
      jobId: BigInt(jobId),
      runId: 1n,
      runAttempt: 1,
      labels,
      status,
      conclusion: WorkflowJobConclusion.UNSPECIFIED,
      repository: { $typeName: 'runnerhub.v1.Repository', id: 1n, owner: 'octo-org', name: 'app', fullName: 'octo-org/app', visibility: RepositoryVisibility.PRIVATE },
      createdAt: timestampFromDate(t0),
      organization: 'octo-org',
      workflowName: 'ci',
      jobName: 'build',
      runnerId: 0n,
      runnerName: '',
      runnerGroupId: 0n,
      runnerGroupName: '',
      headSha: 'abc',
      headBranch: 'main',
      htmlUrl: '',
      senderLogin: '',
      checkRunUrl: '',
      ...extra,
    }) as SubjectMessages['gh.workflow_job.x'];

  const facts = async (subject: string) => {
    const info = await jsm.streams.info('JOBS', { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  };

  it('turns shuffled, duplicated deliveries of one job into a row that ends completed, with no fact twice', async () => {
    const labels = ['self-hosted', 'Linux', 'docker'];
    const queued = event(101, WorkflowJobStatus.QUEUED, labels);
    const started = event(101, WorkflowJobStatus.IN_PROGRESS, labels, { runnerId: 7n, runnerName: 'rh-small-7', startedAt: timestampFromDate(new Date(t0.getTime() + 5000)) });
    const done = event(101, WorkflowJobStatus.COMPLETED, labels, { runnerId: 7n, runnerName: 'rh-small-7', conclusion: WorkflowJobConclusion.SUCCESS, completedAt: timestampFromDate(new Date(t0.getTime() + 60_000)) });
    const pub = publisher();
    // Each delivery has its own GUID: GitHub's duplicates are different deliveries of the same fact.
    const arrivals: Array<[string, SubjectMessages['gh.workflow_job.x']]> = [
      ['completed', done],
      ['queued', queued],
      ['in_progress', started],
      ['queued', queued],
      ['completed', done],
    ];
    let n = 0;
    for (const [action, e] of arrivals) await pub.publish(githubSubject('workflow_job', action), e, { msgId: `delivery-${++n}` });

    const jobs = jobsQueries(db.pool);
    await waitFor(async () => (await jobs.get('101'))?.status === 'completed' && (await facts('job.completed')) === 1, { timeoutMs: 20_000, what: 'job 101 completed' });
    const job = (await jobs.get('101'))!;
    expect(job).toMatchObject({ status: 'completed', conclusion: 'success', match: 'matched', pool: 'small', runnerName: 'rh-small-7', repo: 'octo-org/app' });
    // Which earlier facts exist depends on which delivery the scheduler saw first (a job first seen
    // completed was never waiting for us); none may exist twice.
    expect(await facts('job.queued')).toBeLessThanOrEqual(1);
    expect(await facts('job.started')).toBeLessThanOrEqual(1);
    expect(job.transitions.map((t) => t.transition)).toContain('completed');
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    expect(rows[0]!.n).toBe(0);
  });

  it('publishes queued, started and completed once each for deliveries in GitHub\'s order, duplicates included', async () => {
    const labels = ['self-hosted', 'docker'];
    const pub = publisher();
    const runner = { runnerId: 9n, runnerName: 'rh-small-9' };
    const sequence: Array<[string, SubjectMessages['gh.workflow_job.x']]> = [
      ['queued', event(303, WorkflowJobStatus.QUEUED, labels)],
      ['queued', event(303, WorkflowJobStatus.QUEUED, labels)],
      ['in_progress', event(303, WorkflowJobStatus.IN_PROGRESS, labels, runner)],
      ['completed', event(303, WorkflowJobStatus.COMPLETED, labels, { ...runner, conclusion: WorkflowJobConclusion.FAILURE })],
    ];
    const before = { q: await facts('job.queued'), s: await facts('job.started'), c: await facts('job.completed') };
    let n = 0;
    // One at a time, as a scheduler that keeps up would see them.
    for (const [action, e] of sequence) {
      await pub.publish(githubSubject('workflow_job', action), e, { msgId: `ordered-${++n}` });
      await waitFor(async () => (await jobsQueries(db.pool).get('303'))?.status === action, { timeoutMs: 10_000, what: `job 303 ${action}` });
    }
    await waitFor(async () => (await facts('job.completed')) === before.c + 1, { timeoutMs: 20_000, what: 'job 303 completed fact' });
    expect(await facts('job.queued')).toBe(before.q + 1);
    expect(await facts('job.started')).toBe(before.s + 1);
    expect((await jobsQueries(db.pool).get('303'))?.conclusion).toBe('failure');
  });

  it('counts a job first heard of in_progress as queued, before started, and its late queued delivery adds nothing', async () => {
    const labels = ['self-hosted', 'docker'];
    const pub = publisher();
    const before = { q: await facts('job.queued'), s: await facts('job.started') };
    // The queued delivery was lost; a runner took the job before GitHub redelivered it.
    await pub.publish(githubSubject('workflow_job', 'in_progress'), event(304, WorkflowJobStatus.IN_PROGRESS, labels, { runnerId: 4n, runnerName: 'rh-small-4' }), { msgId: 'late-1' });
    await waitFor(async () => (await facts('job.started')) === before.s + 1, { timeoutMs: 20_000, what: 'job 304 started fact' });
    expect(await facts('job.queued')).toBe(before.q + 1);
    const queuedSeq = (await jsm.streams.getMessage('JOBS', { last_by_subj: 'job.queued' }))!;
    const startedSeq = (await jsm.streams.getMessage('JOBS', { last_by_subj: 'job.started' }))!;
    expect((contractsCodec.decode('job.queued', queuedSeq.data) as JobQueued).job?.jobId).toBe(304n);
    expect(queuedSeq.seq).toBeLessThan(startedSeq.seq);

    await pub.publish(githubSubject('workflow_job', 'queued'), event(304, WorkflowJobStatus.QUEUED, labels), { msgId: 'late-2' });
    // Once the scheduler has handled the redelivered queued event, it must have changed nothing.
    const handled = async () => {
      const c = await jsm.consumers.info('GITHUB', WORKFLOW_JOBS_DURABLE);
      return c.num_pending === 0 && c.num_ack_pending === 0;
    };
    await waitFor(handled, { timeoutMs: 10_000, what: 'the late queued delivery handled' });
    expect(await facts('job.queued')).toBe(before.q + 1);
    expect((await jobsQueries(db.pool).get('304'))?.status).toBe('in_progress');
    // Done, so the demand test below counts only its own jobs.
    await pub.publish(githubSubject('workflow_job', 'completed'), event(304, WorkflowJobStatus.COMPLETED, labels, { runnerId: 4n, runnerName: 'rh-small-4', conclusion: WorkflowJobConclusion.SUCCESS }), { msgId: 'late-3' });
    await waitFor(async () => (await jobsQueries(db.pool).get('304'))?.status === 'completed', { timeoutMs: 10_000, what: 'job 304 completed' });
  });

  it('reports a job no pool can serve with the labels the closest pool lacks', async () => {
    await publisher().publish(githubSubject('workflow_job', 'queued'), event(202, WorkflowJobStatus.QUEUED, ['self-hosted', 'gpu']), { msgId: 'delivery-gpu' });
    await waitFor(async () => (await facts('job.unmatched')) === 1, { timeoutMs: 20_000, what: 'job.unmatched' });
    const msg = (await jsm.streams.getMessage('JOBS', { last_by_subj: 'job.unmatched' }))!;
    const unmatched = contractsCodec.decode('job.unmatched', msg.data) as JobUnmatched;
    expect(unmatched.job?.jobId).toBe(202n);
    expect(unmatched.missingLabels).toEqual(['gpu']);
    expect(unmatched.closestPools.map((p) => p.pool)).toEqual(['small']);
    expect((await jobsQueries(db.pool).get('202'))?.match).toBe('unmatched');

    // The admin API answers "why" for it, naming the missing label.
    const readiness = createReadiness(log, { intervalMs: 60_000 });
    const telemetry = startTelemetry({ serviceName: 'scheduler-test' });
    const app = await createHttpServer({ service: 'scheduler', log, readiness, telemetry, adminTokens: [{ name: 'r', scope: 'read', token: 'read-token-0123456789' }] });
    const statuses = watchPoolStatuses(nc, log);
    registerJobRoutes(app, { jobs: jobsQueries(db.pool), diagnose: { db: db.pool, pools, statuses, rules: NO_RULES, gh: undefined }, caps: NO_RULES.caps, reconcileNow: undefined });
    const auth = { authorization: 'Bearer read-token-0123456789' };
    const why = await app.inject({ url: '/api/jobs/202/why', headers: auth });
    expect(why.json()).toMatchObject({ reason: 'no_pool_matches', closestPools: [{ pool: 'small', missing: ['gpu'] }] });
    expect((await app.inject({ url: '/api/jobs/999/why', headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/api/reconciler/run', headers: auth })).statusCode).toBe(403);
    await app.close();
    statuses.stop();
    readiness.close();
  });

  it('publishes the demand per pool as a level: pending and running matched jobs', async () => {
    const pub = publisher();
    await pub.publish(githubSubject('workflow_job', 'queued'), event(404, WorkflowJobStatus.QUEUED, ['self-hosted', 'docker']), { msgId: 'demand-1' });
    await pub.publish(githubSubject('workflow_job', 'queued'), event(405, WorkflowJobStatus.QUEUED, ['docker']), { msgId: 'demand-2' });
    await pub.publish(githubSubject('workflow_job', 'in_progress'), event(405, WorkflowJobStatus.IN_PROGRESS, ['docker'], { runnerId: 3n, runnerName: 'rh-small-3' }), { msgId: 'demand-3' });
    const latest = async () => {
      const m = await jsm.streams.getMessage('JOBS', { last_by_subj: 'pool.demand' });
      return m ? (contractsCodec.decode('pool.demand', m.data) as DemandSnapshot).pools.find((p) => p.pool === 'small') : undefined;
    };
    await waitFor(async () => (await latest())?.pending?.normal === 1 && (await latest())?.running === 1, { timeoutMs: 20_000, what: 'demand small: 1 pending, 1 running' });
    expect((await latest())?.oldestPendingAt).toBeDefined();
  });

  it("matches a job against the labels the pool's runners will carry, and again when its hosts turn out ARM64", async () => {
    const kv = await new Kvm(nc).open(POOL_DEFINITIONS_BUCKET);
    const putPi = async (runnerLabels: string[]) => {
      await kv.put('pi', contractsCodec.encode(poolDefinitionKvSubject('pi'), create(PoolDefinitionSchema, { name: 'pi', labels: ['pi'], maxRunners: 1, runnerLabels })).data);
      await waitFor(() => pools.get('pi')?.runnerLabels.join() === runnerLabels.join(), { timeoutMs: 10_000, what: `pool pi with ${runnerLabels.join(', ')}` });
    };
    // No host has reported: the pool-manager says its runners would be Linux X64.
    await putPi(['self-hosted', 'Linux', 'X64', 'pi']);
    const pub = publisher();
    await pub.publish(githubSubject('workflow_job', 'queued'), event(601, WorkflowJobStatus.QUEUED, ['self-hosted', 'linux', 'x64', 'pi']), { msgId: 'pi-x64' });
    await pub.publish(githubSubject('workflow_job', 'queued'), event(602, WorkflowJobStatus.QUEUED, ['self-hosted', 'linux', 'arm64', 'pi']), { msgId: 'pi-arm64' });
    const jobs = jobsQueries(db.pool);
    await waitFor(async () => (await jobs.get('601'))?.pool === 'pi' && (await jobs.get('602'))?.match === 'unmatched', { timeoutMs: 20_000, what: 'x64 job matched to pi, arm64 job unmatched' });
    // The Pi's executor reports: the pool's runners carry ARM64. The waiting arm64 job now has a pool;
    // the x64 one, which no runner of pi could take, no longer does.
    await putPi(['self-hosted', 'Linux', 'ARM64', 'pi']);
    expect(await rematchWaitingJobs({ db: db.pool, pools, relay, demand, log })).toBe(2);
    expect(await jobs.get('602')).toMatchObject({ match: 'matched', pool: 'pi' });
    expect(await jobs.get('601')).toMatchObject({ match: 'unmatched', pool: null });
    // Matching again changes nothing more.
    expect(await rematchWaitingJobs({ db: db.pool, pools, relay, demand, log })).toBe(0);
  });
});

