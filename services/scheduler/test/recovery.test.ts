import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, create, POOL_DEFINITIONS_BUCKET, PoolDefinitionSchema, poolDefinitionKvSubject, PoolScopeKind, QueueReason, streamDefinitions, type JobStuck } from '@runnerhub/contracts';
import { startGitHubSim, type GitHubSim } from '@runnerhub/github-sim';
import { connectNats, createLogger, ensureStreams } from '@runnerhub/platform';
import { createTestDatabase, REDIS_URL, startNatsServer, startServiceProcess, waitFor, waitForReady, type NatsServer, type ServiceProcess, type TestDatabase } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What webhooks do not say, GitHub's API does: the real gateway (without its redelivery reconciler)
// and the real scheduler, the simulator dropping 30% of deliveries. The scheduler's missed-job
// reconciler must still know every job, and know which ones ended.

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const TOKEN = 'scheduler-recovery-admin-token';
const SECRET = 'recovery-webhook-secret';

interface JobView {
  jobId: string;
  status: string;
  conclusion: string | null;
  match: string;
  pool: string | null;
  priority: string;
  foundBy: string;
}

describe('scheduler: missed-job reconciler, stuck jobs, priorities and caps', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let gatewayDb: TestDatabase;
  let schedulerDb: TestDatabase;
  let sim: GitHubSim;
  let gateway: ServiceProcess;
  let scheduler: ServiceProcess;

  const api = async <T>(path: string, method = 'GET'): Promise<T> => {
    const response = await fetch(`${scheduler.url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status, `${method} ${path}: ${await response.clone().text()}`).toBe(200);
    return (await response.json()) as T;
  };
  const jobs = async () => (await api<{ jobs: JobView[] }>('/api/jobs?limit=500')).jobs;
  const putPool = async (name: string, labels: string[], patch: Record<string, unknown> = {}) => {
    const kv = await new Kvm(nc).create(POOL_DEFINITIONS_BUCKET, { history: 1 });
    const pool = create(PoolDefinitionSchema, { name, labels, maxRunners: 4, scope: { kind: PoolScopeKind.REPOSITORY, organization: 'acme', repository: 'acme/app' }, expectedStartSeconds: 2, ...patch });
    await kv.put(name, contractsCodec.encode(poolDefinitionKvSubject(name), pool).data);
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await ensureStreams(nc, Object.values(streamDefinitions));
    gatewayDb = await createTestDatabase('recovery_gateway');
    schedulerDb = await createTestDatabase('recovery_scheduler');
    sim = await startGitHubSim({ webhookSecret: SECRET });
    sim.createInstallation({ account: 'acme', repositories: ['app'] });
    await putPool('docker', ['docker']);
    const rules = join(mkdtempSync(join(tmpdir(), 'rules-')), 'rules.yaml');
    writeFileSync(rules, 'priorities:\n  - { workflow: "Release*", class: critical }\ncaps:\n  perRepository: 5\n');
    // No GitHub App for the gateway: its redelivery reconciler is off, as the issue asks.
    gateway = await startServiceProcess('webhook-gateway', { NATS_URL: nats.url, DATABASE_URL: gatewayDb.url, REDIS_URL, GITHUB_WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'warn' });
    scheduler = await startServiceProcess('scheduler', {
      NATS_URL: nats.url,
      DATABASE_URL: schedulerDb.url,
      REDIS_URL,
      ADMIN_TOKENS: `ops:write:${TOKEN}`,
      GITHUB_API_URL: sim.url,
      GITHUB_APP_ID: String(sim.app.id),
      GITHUB_APP_PRIVATE_KEY: sim.app.privateKey,
      SCHEDULER_RULES_FILE: rules,
      // The test runs cycles through the admin API.
      SCHEDULER_RECONCILE_SECONDS: '3600',
      SCHEDULER_STUCK_CHECK_SECONDS: '1',
      LOG_LEVEL: 'warn',
    });
    await Promise.all([waitForReady(gateway), waitForReady(scheduler)]);
    sim.setWebhook({ url: `${gateway.url}/webhooks/github` });
  }, 120_000);

  afterAll(async () => {
    for (const service of [scheduler, gateway]) {
      service?.kill('SIGTERM');
      await service?.exited;
    }
    await sim?.close();
    await nc?.close();
    await nats?.stop();
    await gatewayDb?.drop();
    await schedulerDb?.drop();
  });

  it('knows every job and every cancellation although 30% of the webhooks never arrived', async () => {
    sim.setFaults({ webhooks: { dropRate: 0.3 } });
    const created = Array.from({ length: 20 }, (_, i) => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'docker'], workflowName: i < 2 ? 'Release' : 'CI' }));
    const cancelled = created.slice(2, 6);
    const jobDeliveries = () => sim.deliveries().filter((d) => d.event === 'workflow_job');
    await waitFor(() => jobDeliveries().length === 20, { what: 'one queued delivery attempt per job' });
    for (const job of cancelled) sim.cancelJob(job.id);
    await waitFor(() => jobDeliveries().length === 24, { what: 'the completed delivery attempts' });
    const idOf = (d: { payload: unknown }) => String((d.payload as { workflow_job: { id: number } }).workflow_job.id);
    const delivered = new Set(jobDeliveries().filter((d) => d.statusCode === 202).map(idOf));
    // One cancellation whose webhook is surely lost, of a job the scheduler knows as queued.
    const victim = created.slice(6).find((j) => delivered.has(String(j.id)))!;
    sim.setFaults({ webhooks: { dropRate: 1 } });
    sim.cancelJob(victim.id);
    cancelled.push(victim);
    await waitFor(() => jobDeliveries().length === 25, { what: 'the lost completed delivery' });
    const lostCompleted = jobDeliveries().filter((d) => d.action === 'completed' && d.statusCode !== 202).length;
    sim.setFaults({});
    // Whatever the gateway took has reached the scheduler.
    await waitFor(async () => (await jobs()).length === delivered.size, { what: 'the delivered jobs' });

    const summary = await api<{ found: number; advanced: number; checked: number; stoppedBy: string | null }>('/api/reconciler/run', 'POST');
    expect(summary.stoppedBy).toBeNull();
    const known = await jobs();
    const byId = new Map(known.map((j) => [j.jobId, j]));
    const waiting = created.filter((j) => !cancelled.includes(j)).map((j) => String(j.id));
    // Every job GitHub still has queued is known and waiting; exactly those no webhook told us about were found by asking.
    for (const id of waiting) expect(byId.get(id), `job ${id}`).toMatchObject({ status: 'queued', match: 'matched', pool: 'docker' });
    const undelivered = waiting.filter((id) => !delivered.has(id));
    expect(new Set(known.filter((j) => j.foundBy === 'reconciler').map((j) => j.jobId))).toEqual(new Set(undelivered));
    expect(summary.found).toBe(undelivered.length);
    // A cancellation whose webhook was lost is learned too; a job cancelled before any webhook arrived needs no runner and may stay unknown.
    for (const job of cancelled) {
      const mine = byId.get(String(job.id));
      if (mine) expect(mine).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    }
    expect(byId.get(String(victim.id))).toMatchObject({ status: 'completed', conclusion: 'cancelled', foundBy: 'webhook' });
    expect(known.filter((j) => j.status === 'queued')).toHaveLength(15);
    expect(summary.advanced).toBe(cancelled.filter((j) => byId.has(String(j.id)) && jobDeliveries().some((d) => d.action === 'completed' && d.statusCode !== 202 && idOf(d) === String(j.id))).length);
    expect(lostCompleted).toBeGreaterThanOrEqual(summary.advanced);
    // Reconciling again finds nothing new: it is idempotent.
    expect(await api<{ found: number; advanced: number }>('/api/reconciler/run', 'POST')).toMatchObject({ found: 0, advanced: 0 });
    expect(sim.violations()).toEqual([]);
  }, 120_000);

  it('classes jobs by the rules and holds back what is over the repository cap, critical jobs excepted', async () => {
    const known = await jobs();
    const queued = known.filter((j) => j.status === 'queued');
    // The two Release jobs are critical; the cap of 5 takes them first, then the three oldest others.
    expect(queued.filter((j) => j.priority === 'critical')).toHaveLength(2);
    const demand = await api<{ pools: { pool: string; pending: Record<string, number>; overCap: number }[] }>('/api/demand');
    expect(demand.pools.find((p) => p.pool === 'docker')).toMatchObject({ pending: { critical: 2, high: 0, normal: 3, low: 0 }, overCap: 10 });
    const answers = await Promise.all(queued.filter((j) => j.priority === 'normal').map((j) => api<{ reason: string; detail: string }>(`/api/jobs/${j.jobId}/why`)));
    const capped = answers.filter((a) => a.reason === 'repo_cap_reached');
    expect(capped).toHaveLength(10);
    expect(capped[0]!.detail).toContain('repository acme/app already has 5 jobs waiting or running');
  });

  it('reports a job waiting past its pool\'s expected start as stuck, once, with the reason', async () => {
    // Two seconds expected and no pool-manager running: every job within the cap is stuck; those over it wait as intended.
    const jsm = await jetstreamManager(nc);
    const stuckFacts = async (): Promise<JobStuck[]> => {
      const { state } = await jsm.streams.info('JOBS');
      const facts: JobStuck[] = [];
      for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('JOBS', { seq }).catch(() => null);
        if (m?.subject === 'job.stuck') facts.push(contractsCodec.decode('job.stuck', m.data) as JobStuck);
      }
      return facts;
    };
    const queued = (await jobs()).filter((j) => j.status === 'queued' && j.pool === 'docker');
    const answers = await Promise.all(queued.map(async (j) => ({ id: j.jobId, why: await api<{ reason: string }>(`/api/jobs/${j.jobId}/why`) })));
    const withinCap = answers.filter((a) => a.why.reason === 'waiting_for_runner').map((a) => a.id);
    expect(withinCap).toHaveLength(5);
    await waitFor(async () => {
      const reported = new Set((await stuckFacts()).map((f) => String(f.job?.jobId)));
      return withinCap.every((id) => reported.has(id));
    }, { what: 'a job.stuck fact for each job within the cap', timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const facts = await stuckFacts();
    const ids = facts.map((f) => String(f.job?.jobId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(facts[0]).toMatchObject({ pool: 'docker', expectedStartSeconds: 2, why: { reason: QueueReason.UNSPECIFIED, detail: expect.stringContaining('matched to pool docker') as unknown } });
    expect(facts[0]!.job?.repository?.fullName).toBe('acme/app');
  });

  it('matches waiting jobs again when a pool that serves them appears', async () => {
    const gpu = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'gpu'] });
    await waitFor(async () => (await jobs()).some((j) => j.jobId === String(gpu.id) && j.match === 'unmatched'), { what: 'the gpu job unmatched' });
    const why = await api<{ reason: string; closestPools: { pool: string; missing: string[] }[] }>(`/api/jobs/${gpu.id}/why`);
    expect(why).toMatchObject({ reason: 'no_pool_matches', closestPools: [{ pool: 'docker', missing: ['gpu'] }] });
    await putPool('gpu', ['gpu']);
    await waitFor(async () => (await jobs()).some((j) => j.jobId === String(gpu.id) && j.match === 'matched' && j.pool === 'gpu'), { what: 'the gpu job matched to the new pool' });
    const jsm = await jetstreamManager(nc);
    const queued = await jsm.streams.getMessage('JOBS', { last_by_subj: 'job.queued' });
    expect((contractsCodec.decode('job.queued', queued!.data) as { pool: string }).pool).toBe('gpu');
  });
});
