import { randomBytes, randomInt } from 'node:crypto';
import { Writable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  contractsCodec,
  create,
  JobCompletedSchema,
  JobQueuedSchema,
  JobRefSchema,
  JobStartedSchema,
  JobStuckSchema,
  JobUnmatchedSchema,
  POOL_DEFINITIONS_BUCKET,
  PoolDefinitionSchema,
  poolDefinitionKvSubject,
  QueueReason,
  RunnerExitedSchema,
  RunnerFailedSchema,
  RunnerFailureReason,
  streamDefinitions,
  timestampFromDate,
  UnmatchedReason,
  WorkflowJobConclusion,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { GitHubClient } from '@runnerhub/github';
import { startGitHubSim, type GitHubSim, type SimCheckRun, type SimInstallation } from '@runnerhub/github-sim';
import { connectNats, createLogger, createPublisher, createRedis, ensureStreams, type Publisher, type RedisHandle } from '@runnerhub/platform';
import {
  createTestDatabase,
  REDIS_URL,
  startNatsServer,
  startServiceProcess,
  waitFor,
  waitForReady,
  type NatsServer,
  type ServiceProcess,
  type TestDatabase,
} from '@runnerhub/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The status-reporter as a process against real NATS, Postgres and Redis and the GitHub simulator:
// facts in, exactly one check run per job and kind out, whatever arrives twice or dies in between.

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const suffix = randomBytes(3).toString('hex');
const TOKEN = 'status-reporter-test-admin-token';
// Our own App id: token cache and rate budget in the shared Redis are keyed by it, so nothing here
// touches what other test runs keep there.
const APP_ID = randomInt(1_000_000, 2_000_000_000);
const t0 = new Date(Date.now() - 10 * 60_000);
let nextJobId = randomInt(1, 1_000_000) * 1_000;

interface ReportView {
  id: string;
  jobId: string;
  kind: string;
  state: string;
  inSync: boolean;
  checkRunId: string | null;
  attempts: number;
  lastError: string | null;
}

describe('status-reporter against the GitHub simulator', () => {
  let sim: GitHubSim;
  let acme: SimInstallation;
  let busy: SimInstallation;
  let nochecks: SimInstallation;
  let nats: NatsServer;
  let nc: NatsConnection;
  let testDb: TestDatabase;
  let db: pg.Pool;
  let redis: RedisHandle;
  let publisher: Publisher<SubjectMessages>;
  let service: ServiceProcess;
  let serviceEnv: Record<string, string>;
  let msg = 0;

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${service.url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    return { status: res.status, body: (await res.json()) as T };
  };
  const reportsOf = async (jobId: number): Promise<ReportView[]> => (await api<{ reports: ReportView[] }>(`/api/reports?job=${jobId}`)).body.reports;
  const checkRunsOf = (jobId: number, kind?: string): SimCheckRun[] =>
    sim.checkRuns().filter((c) => c.externalId?.startsWith(`runnerhub:${jobId}:`) && (!kind || c.externalId === `runnerhub:${jobId}:${kind}`));
  type Fact = 'job.queued' | 'job.unmatched' | 'job.stuck' | 'job.started' | 'job.completed' | 'runner.failed' | 'runner.exited';
  const publish = async <S extends Fact>(subject: S, message: SubjectMessages[S]) => publisher.publish(subject, message, { msgId: `${suffix}-${++msg}` });
  const sent = (jobId: number, kind: string) => async () => (await reportsOf(jobId)).some((r) => r.kind === kind && r.state === 'sent' && r.inSync);
  const what = (s: string) => `${s}\n${service.output().slice(-3000)}`;

  const ref = (jobId: number, inst: SimInstallation, labels: string[], sha = `sha${jobId}`) =>
    create(JobRefSchema, {
      jobId: BigInt(jobId),
      runId: 1n,
      runAttempt: 1,
      installationId: BigInt(inst.id),
      repository: { id: BigInt(inst.repositories[0]!.id), owner: inst.account.login, name: 'app', fullName: `${inst.account.login}/app` },
      organization: inst.account.login,
      workflowName: 'ci',
      jobName: `build-${jobId}`,
      labels,
      headSha: sha,
      headBranch: 'main',
      htmlUrl: `https://github.com/${inst.account.login}/app/actions/runs/1/job/${jobId}`,
    });
  const unmatched = (jobId: number, inst: SimInstallation) =>
    create(JobUnmatchedSchema, {
      job: ref(jobId, inst, ['self-hosted', 'gpu']),
      reason: UnmatchedReason.NO_POOL_MATCHES,
      detail: 'no pool has every label of runs-on: self-hosted, gpu',
      missingLabels: ['gpu'],
      closestPools: [
        { pool: 'small', missingLabels: ['gpu'] },
        { pool: 'reports', missingLabels: ['gpu'] },
      ],
      queuedAt: timestampFromDate(t0),
      decidedAt: timestampFromDate(t0),
    });
  const queued = (jobId: number, pool: string, inst = acme) =>
    create(JobQueuedSchema, { job: ref(jobId, inst, ['self-hosted', pool]), pool, queuedAt: timestampFromDate(t0), matchedAt: timestampFromDate(t0) });

  beforeAll(async () => {
    sim = await startGitHubSim({ appId: APP_ID });
    acme = sim.createInstallation({ account: `acme-${suffix}`, repositories: ['app'] });
    busy = sim.createInstallation({ account: `busy-${suffix}`, repositories: ['app'] });
    nochecks = sim.createInstallation({ account: `nochecks-${suffix}`, repositories: ['app'], permissions: { actions: 'read', metadata: 'read' } });
    nats = await startNatsServer();
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await ensureStreams(nc, Object.values(streamDefinitions));
    publisher = createPublisher<SubjectMessages>(nc, contractsCodec);
    // What the pool-manager publishes: `small` without reporting options (defaults), `reports` with job reports.
    const kv = await new Kvm(nc).create(POOL_DEFINITIONS_BUCKET, { history: 1 });
    for (const pool of [
      create(PoolDefinitionSchema, { name: 'small', labels: ['small'], maxRunners: 2 }),
      create(PoolDefinitionSchema, { name: 'reports', labels: ['reports'], maxRunners: 2, reporting: { checkRuns: true, jobReports: true } }),
    ]) {
      await kv.put(pool.name, contractsCodec.encode(poolDefinitionKvSubject(pool.name), pool).data);
    }
    testDb = await createTestDatabase('status_reporter');
    db = new pg.Pool({ connectionString: testDb.url, max: 2 });
    redis = createRedis(REDIS_URL, log, 'status-reporter-test');
    serviceEnv = {
      NATS_URL: nats.url,
      DATABASE_URL: testDb.url,
      REDIS_URL,
      ADMIN_TOKENS: `ops:write:${TOKEN}`,
      GITHUB_API_URL: sim.url,
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_APP_PRIVATE_KEY: sim.app.privateKey,
      // Short claims, so the crash test does not wait long for a dead sender's claim to expire.
      REPORTER_SEND_TIMEOUT_SECONDS: '3',
      REPORTER_MAX_RATE_WAIT_SECONDS: '1',
      LOG_LEVEL: 'info',
    };
    service = await startServiceProcess('status-reporter', serviceEnv);
    await waitForReady(service);
  }, 120_000);

  afterAll(async () => {
    service?.kill('SIGTERM');
    await service?.exited;
    await db?.end();
    await redis?.close();
    await nc?.close();
    await nats?.stop();
    await sim?.close();
    await testDb?.drop();
  });

  it('explains a job no pool can serve in one check run, also when the fact arrives twice', async () => {
    const jobId = ++nextJobId;
    await publish('job.unmatched', unmatched(jobId, acme));
    await waitFor(sent(jobId, 'unmatched'), { what: what('unmatched report sent'), timeoutMs: 20_000 });
    // The same fact again (a redelivery, or the scheduler's outbox publishing twice).
    await publish('job.unmatched', unmatched(jobId, acme));
    await new Promise((r) => setTimeout(r, 2_000));
    const runs = checkRunsOf(jobId);
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run).toMatchObject({ repository: `acme-${suffix}/app`, headSha: `sha${jobId}`, name: `RunnerHub: no runner for build-${jobId}`, status: 'completed', conclusion: 'action_required' });
    expect(run!.output.summary).toContain('`self-hosted`, `gpu`');
    expect(run!.output.summary).toContain('| `small` | `gpu` |');
    expect(run!.output.summary).toMatch(/change `runs-on`/);
    const [report] = await reportsOf(jobId);
    expect(report).toMatchObject({ kind: 'unmatched', state: 'sent', checkRunId: String(run!.id) });
  });

  it('explains a stuck job with the scheduler\'s why, and marks it resolved when a runner takes it', async () => {
    const jobId = ++nextJobId;
    await publish('job.queued', queued(jobId, 'small'));
    const stuck = create(JobStuckSchema, {
      job: ref(jobId, acme, ['self-hosted', 'small']),
      pool: 'small',
      queuedAt: timestampFromDate(t0),
      expectedStartSeconds: 120,
      why: { reason: QueueReason.HOST_BUDGET_EXHAUSTED, detail: 'host nas has 0.5 of 4 CPUs free; the pool needs 2', since: timestampFromDate(t0) },
      detectedAt: timestampFromDate(new Date(t0.getTime() + 5 * 60_000)),
    });
    await publish('job.stuck', stuck);
    await publish('job.stuck', stuck);
    await waitFor(sent(jobId, 'stuck'), { what: what('stuck report sent'), timeoutMs: 20_000 });
    let [run] = checkRunsOf(jobId, 'stuck');
    expect(run).toMatchObject({ status: 'in_progress', conclusion: null, name: `RunnerHub: build-${jobId} waits for a runner` });
    expect(run!.output.summary).toContain('**host budget exhausted**: host nas has 0.5 of 4 CPUs free; the pool needs 2');
    expect(run!.output.summary).toContain('since 5 min 0 s');

    await publish('job.started', create(JobStartedSchema, { job: ref(jobId, acme, ['self-hosted', 'small']), pool: 'small', runnerName: 'rh-small-abc', startedAt: timestampFromDate(new Date()) }));
    await waitFor(() => checkRunsOf(jobId, 'stuck')[0]?.status === 'completed', { what: what('stuck check run resolved'), timeoutMs: 20_000 });
    expect(checkRunsOf(jobId)).toHaveLength(1);
    [run] = checkRunsOf(jobId, 'stuck');
    expect(run).toMatchObject({ conclusion: 'neutral' });
    expect(run!.output.summary).toContain('runner `rh-small-abc` took the job');
  });

  it('reports a runner that failed to start on the waiting jobs of its pool, with the reason and the last log lines', async () => {
    const waiting = [++nextJobId, ++nextJobId];
    const elsewhere = ++nextJobId;
    for (const id of waiting) await publish('job.queued', queued(id, 'small'));
    await publish('job.queued', queued(elsewhere, 'reports'));
    await waitFor(async () => (await db.query('SELECT count(*)::int AS n FROM status_reporter.jobs WHERE job_id = ANY($1)', [waiting])).rows[0].n === 2, { what: 'jobs recorded' });
    const failed = create(RunnerFailedSchema, {
      runner: { runnerId: 'r1', runnerName: `rh-small-${suffix}`, pool: 'small', host: 'nas' },
      reason: RunnerFailureReason.EXITED_BEFORE_JOB,
      message: 'the runner exited before taking a job (exit code 1)',
      lastLogLines: ['Connecting to GitHub', 'Error: could not resolve host github.com', 'exiting'],
      exitCode: 1,
      failedAt: timestampFromDate(new Date()),
    });
    await publish('runner.failed', failed);
    await publish('runner.failed', failed);
    for (const id of waiting) await waitFor(sent(id, 'runner_failed'), { what: what(`runner_failed report for ${id}`), timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1_500));
    for (const id of waiting) {
      const runs = checkRunsOf(id);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: 'completed', conclusion: 'failure', name: `RunnerHub: runner failed to start for build-${id}` });
      expect(runs[0]!.output.title).toBe(`Runner rh-small-${suffix} failed to start: exited before job`);
      expect(runs[0]!.output.summary).toContain('the runner exited before taking a job (exit code 1)');
      expect(runs[0]!.output.summary).not.toContain('2 runners so far');
      expect(runs[0]!.output.text).toContain('Error: could not resolve host github.com\nexiting');
    }
    expect(checkRunsOf(elsewhere)).toHaveLength(0);
  });

  it('writes a job report for a pool that asks for it, with queue and run time, host, CPU and memory', async () => {
    const jobId = ++nextJobId;
    const plain = ++nextJobId;
    const runnerName = `rh-reports-${suffix}`;
    const started = new Date(t0.getTime() + 30_000);
    const done = new Date(t0.getTime() + 150_000);
    for (const [id, pool, runner] of [[jobId, 'reports', runnerName], [plain, 'small', `rh-small-${suffix}-2`]] as const) {
      await publish('job.queued', queued(id, pool));
      await publish('job.started', create(JobStartedSchema, { job: ref(id, acme, ['self-hosted', pool]), pool, runnerName: runner, queuedAt: timestampFromDate(t0), startedAt: timestampFromDate(started) }));
      await publish(
        'job.completed',
        create(JobCompletedSchema, {
          job: ref(id, acme, ['self-hosted', pool]),
          pool,
          conclusion: WorkflowJobConclusion.SUCCESS,
          runnerName: runner,
          queuedAt: timestampFromDate(t0),
          startedAt: timestampFromDate(started),
          completedAt: timestampFromDate(done),
        }),
      );
    }
    // The executor's figures arrive after the job fact.
    await publish('runner.exited', create(RunnerExitedSchema, { runner: { runnerId: 'r2', runnerName, pool: 'reports', host: 'nas-2' }, exitCode: 0, cpuSeconds: 12.5, peakMemoryBytes: 300n * 1024n * 1024n }));
    await waitFor(() => checkRunsOf(jobId, 'job_report')[0]?.output.summary?.includes('300.0 MiB') === true, { what: what('job report with the container figures'), timeoutMs: 20_000 });
    await waitFor(sent(jobId, 'job_report'), { what: 'job report in sync' });
    expect(checkRunsOf(jobId)).toHaveLength(1);
    const [run] = checkRunsOf(jobId);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'neutral', name: `RunnerHub: build-${jobId} report` });
    for (const s of ['| Queue time | 30 s |', '| Run time | 2 min 0 s |', '| Pool | `reports` |', '| Host | `nas-2` |', `| Runner | \`${runnerName}\` |`, '| CPU used | 12.5 CPU seconds |', '| Peak memory | 300.0 MiB |']) {
      expect(run!.output.summary).toContain(s);
    }
    // Pools without the option get none.
    expect(checkRunsOf(plain)).toHaveLength(0);
    expect(await reportsOf(plain)).toHaveLength(0);
  });

  it('creates no second check run when killed between the GitHub call and its own commit', async () => {
    const jobId = ++nextJobId;
    // GitHub takes 2 s to answer the create: the process dies while it waits, and GitHub creates the check run anyway.
    sim.setFaults({ rest: [{ method: 'POST', path: '/check-runs$', delayMs: 2_000, times: 1 }] });
    await publish('job.unmatched', unmatched(jobId, acme));
    await waitFor(async () => (await db.query('SELECT create_attempts FROM status_reporter.reports WHERE job_id = $1', [jobId])).rows[0]?.create_attempts === 1, {
      what: what('the intent recorded before the POST'),
      intervalMs: 20,
    });
    service.kill('SIGKILL');
    await service.exited;
    await waitFor(() => checkRunsOf(jobId).length === 1, { what: 'GitHub created the check run after the sender died', timeoutMs: 10_000 });
    const { rows } = await db.query('SELECT check_run_id, state FROM status_reporter.reports WHERE job_id = $1', [jobId]);
    expect(rows[0]).toMatchObject({ check_run_id: null, state: 'pending' });
    sim.setFaults({});

    service = await startServiceProcess('status-reporter', serviceEnv);
    await waitForReady(service);
    // The dead sender's claim expires, the next one finds the check run by its external_id.
    await waitFor(sent(jobId, 'unmatched'), { what: what('report sent after the restart'), timeoutMs: 40_000 });
    const runs = checkRunsOf(jobId);
    expect(runs).toHaveLength(1);
    expect((await reportsOf(jobId))[0]?.checkRunId).toBe(String(runs[0]!.id));
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/runnerhub_status_report_sends_total\{kind="unmatched",outcome="adopted"\} 1/);
  }, 90_000);

  it('delays reports while the rate budget is spent and delivers every one of them afterwards', async () => {
    const jobs = [++nextJobId, ++nextJobId, ++nextJobId];
    // One call left this hour for each installation.
    sim.setRateLimits({ installation: 1 });
    for (const id of jobs) await publish('job.unmatched', unmatched(id, busy));
    await waitFor(async () => (await Promise.all(jobs.map(reportsOf))).flat().filter((r) => r.state === 'pending' && /rate limit/i.test(r.lastError ?? '')).length === 2, {
      what: what('two reports waiting for the budget'),
      timeoutMs: 20_000,
    });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(jobs.flatMap((id) => checkRunsOf(id))).toHaveLength(1);
    const waiting = (await Promise.all(jobs.map(reportsOf))).flat().filter((r) => r.state === 'pending');
    expect(waiting).toHaveLength(2);
    // A rate-limit wait is not a failed attempt.
    expect(waiting.every((r) => r.attempts === 0)).toBe(true);

    // The hour passes: GitHub's window resets, and the shared budget's record of it expires.
    sim.setRateLimits({ installation: 5_000 });
    const keys = await redis.client.keys(`runnerhub:github:${APP_ID}:rate:installation:${busy.id}:*`);
    if (keys.length > 0) await redis.client.del(...keys);
    for (const id of jobs) await waitFor(sent(id, 'unmatched'), { what: what(`report for ${id} delivered`), timeoutMs: 20_000 });
    for (const id of jobs) expect(checkRunsOf(id)).toHaveLength(1);
  }, 60_000);

  it('stops calling GitHub for an installation that did not grant checks: write, until it is enabled again', async () => {
    const gh = new GitHubClient({ baseUrl: sim.url, appId: APP_ID, privateKey: sim.app.privateKey, redis: redis.client, keyPrefix: `status-reporter-test-${suffix}`, log });
    const used = async () => (await gh.request<{ rate: { used: number } }>({ installationId: nochecks.id }, 'GET /rate_limit')).data.rate.used;
    const first = ++nextJobId;
    await publish('job.unmatched', unmatched(first, nochecks));
    await waitFor(async () => (await reportsOf(first))[0]?.state === 'disabled', { what: what('report disabled'), timeoutMs: 20_000 });
    const disabled = await api<{ installations: Array<{ installationId: string; reason: string }> }>('/api/installations/disabled');
    expect(disabled.body.installations).toEqual([expect.objectContaining({ installationId: String(nochecks.id), reason: expect.stringMatching(/checks=write/) })]);
    const callsAfterDisable = await used();

    const second = ++nextJobId;
    await publish('job.unmatched', unmatched(second, nochecks));
    await waitFor(async () => (await reportsOf(second))[0]?.state === 'disabled', { what: 'second report held back', timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await used()).toBe(callsAfterDisable);
    expect(checkRunsOf(first)).toHaveLength(0);
    const lines = service.output().split('\n').filter((l) => l.includes('the App needs checks=write'));
    expect(lines).toHaveLength(1);
    expect(await (await fetch(`${service.url}/metrics`)).text()).toMatch(/runnerhub_status_installations_disabled_total\{permission="checks=write"\} 1/);
    // A held-back report cannot be retried alone.
    expect((await api(`/api/reports/${(await reportsOf(second))[0]!.id}/retry`, { method: 'POST' })).status).toBe(409);

    // Enabling sends the held-back reports; still without the permission, it is switched off again.
    const enabled = await api<{ requeued: number }>(`/api/installations/${nochecks.id}/enable`, { method: 'POST' });
    expect(enabled).toEqual({ status: 200, body: { installationId: String(nochecks.id), requeued: 2 } });
    await waitFor(async () => (await api<{ installations: unknown[] }>('/api/installations/disabled')).body.installations.length === 1, { what: what('disabled again'), timeoutMs: 20_000 });
    expect((await api(`/api/installations/${acme.id}/enable`, { method: 'POST' })).status).toBe(404);
  }, 60_000);

  it('lists reports with their GitHub state and sends one again on request', async () => {
    const list = await api<{ reports: ReportView[] }>('/api/reports?kind=unmatched&state=sent&limit=500');
    expect(list.status).toBe(200);
    expect(list.body.reports.length).toBeGreaterThanOrEqual(5);
    const one = list.body.reports[0]!;
    const detail = await api<{ output: { summary: string }; checkRunId: string }>(`/api/reports/${one.id}`);
    expect(detail.body.checkRunId).toBe(one.checkRunId);
    expect(detail.body.output.summary).toContain('How to fix it');
    const retried = await api<ReportView>(`/api/reports/${one.id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    await waitFor(sent(Number(one.jobId), 'unmatched'), { what: 'retried report sent again' });
    expect(checkRunsOf(Number(one.jobId))).toHaveLength(1);
    expect((await api('/api/reports/999999999')).status).toBe(404);
    expect((await fetch(`${service.url}/api/reports`)).status).toBe(401);
  });

  it('left no OpenAPI contract violation at the simulator', () => {
    expect(sim.violations()).toEqual([]);
  });
});
