import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, create, DemandSnapshotSchema, streamDefinitions, timestampNow, type PoolSnapshot, type SubjectMessages } from '@runnerhub/contracts';
import { createDockerClient, LABEL } from '@runnerhub/docker';
import { startGitHubSim, type GitHubSim } from '@runnerhub/github-sim';
import { connectNats, createLogger, createPublisher, ensureStreams } from '@runnerhub/platform';
import {
  createTestDatabase,
  DOCKER_PROXY_URL,
  REDIS_URL,
  repoRoot,
  startNatsServer,
  startServiceProcess,
  waitFor, waitForReady,
  type NatsServer,
  type ServiceProcess,
  type TestDatabase,
} from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The supply path for real: demand for a pool → the pool-manager registers a JIT runner with the
// GitHub simulator and asks the executor for a container → the fake runner image takes the job →
// the job completes at "GitHub" → the runner is finished and its container gone.

const run = promisify(execFile);
const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const suffix = randomBytes(3).toString('hex');
const HOST = `supply-${suffix}`;
const DEPLOYMENT = `supply-${suffix}`;
const LABEL_NAME = `e2e-${suffix}`;
const TOKEN = 'pool-manager-test-admin-token';
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));

interface RunnerView {
  name: string;
  state: string;
  failure: string | null;
}

describe('pool-manager with an executor, the simulator and the fake runner image', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let testDb: TestDatabase;
  let sim: GitHubSim;
  let executor: ServiceProcess;
  let poolManager: ServiceProcess;
  let poolManagerEnv: Record<string, string>;
  let demandTimer: NodeJS.Timeout | undefined;
  let pending = 0;
  const pendingBy: Record<string, number> = {};

  const runners = async (pool = 'e2e'): Promise<RunnerView[]> => {
    const response = await fetch(`${poolManager.url}/api/runners?pool=${pool}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await response.json()) as { runners: RunnerView[] }).runners;
  };

  beforeAll(async () => {
    await run('bash', [`${repoRoot}scripts/build-runner-image.sh`]);
    const bridge = (await docker.getNetwork('bridge').inspect()) as { IPAM: { Config: { Gateway?: string }[] } };
    sim = await startGitHubSim({ host: '0.0.0.0', runnerHost: bridge.IPAM.Config.find((c) => c.Gateway)?.Gateway ?? '172.17.0.1' });
    sim.createInstallation({ account: 'acme', repositories: ['app'] });
    nats = await startNatsServer();
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await ensureStreams(nc, Object.values(streamDefinitions));
    testDb = await createTestDatabase('pool_manager_supply');
    const poolsFile = join(mkdtempSync(join(tmpdir(), 'pools-')), 'pools.yaml');
    writeFileSync(
      poolsFile,
      `pools:
  - name: e2e
    repository: acme/app
    labels: [${LABEL_NAME}]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.5
    memoryMb: 256
    pids: 256
    max: 2
    bootTimeoutSeconds: 120
  - name: warm
    repository: acme/app
    labels: [warm-${suffix}]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    minIdle: 1
    max: 3
    idleTimeoutSeconds: 3
  - name: crash
    repository: acme/app
    labels: [crash-${suffix}]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 3
    bootTimeoutSeconds: 10
    idleTimeoutSeconds: 2
  - name: broken
    repository: acme/app
    labels: [broken-${suffix}]
    image: runnerhub/no-such-image:1
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    max: 3
`,
    );
    executor = await startServiceProcess('container-executor', {
      NATS_URL: nats.url,
      DOCKER_HOST: DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'),
      EXECUTOR_HOST_ID: HOST,
      DEPLOYMENT_ID: DEPLOYMENT,
      EXECUTOR_HEARTBEAT_SECONDS: '1',
      EXECUTOR_RESERVED_CPUS: '0',
      EXECUTOR_RESERVED_MEMORY_MB: '0',
      LOG_LEVEL: 'warn',
    });
    poolManagerEnv = {
      NATS_URL: nats.url,
      DATABASE_URL: testDb.url,
      REDIS_URL,
      ADMIN_TOKENS: `ops:write:${TOKEN}`,
      POOLS_FILE: poolsFile,
      GITHUB_API_URL: sim.url,
      GITHUB_APP_ID: String(sim.app.id),
      GITHUB_APP_PRIVATE_KEY: sim.app.privateKey,
      POOL_RECONCILE_SECONDS: '1',
      POOL_REAPER_SECONDS: '2',
      LOG_LEVEL: 'warn',
    };
    poolManager = await startServiceProcess('pool-manager', poolManagerEnv);
    await waitForReady(executor);
    await waitForReady(poolManager);
    // The scheduler's part: the demand level for the pool, every second.
    const publisher = createPublisher<SubjectMessages>(nc, contractsCodec);
    let n = 0;
    demandTimer = setInterval(() => {
      void publisher
        .publish(
          'pool.demand',
          create(DemandSnapshotSchema, {
            takenAt: timestampNow(),
            pools: Object.entries({ ...pendingBy, e2e: pending })
              .filter(([, count]) => count > 0)
              .map(([pool, count]) => ({ pool, pending: { normal: count } })),
          }),
          { msgId: `demand-${suffix}-${n++}` },
        )
        .catch(() => undefined);
    }, 1000);
  }, 180_000);

  afterAll(async () => {
    clearInterval(demandTimer);
    for (const service of [poolManager, executor]) {
      service?.kill('SIGTERM');
      await service?.exited;
    }
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`] } })) {
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    }
    // Networks too: Docker has only a few dozen address pools for bridge networks on a host.
    for (const n of await docker.listNetworks({ filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`] } })) {
      await docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
    await sim?.close();
    await nc?.close();
    await nats?.stop();
    await testDb?.drop();
  });

  it('creates a runner for a pending job, which runs it, and stops creating when demand is gone', async () => {
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', LABEL_NAME], command: 'echo "built by $RUNNER_NAME"' });
    pending = 1;
    await waitFor(() => sim.job(job.id)?.status === 'completed', {
      what: `the job to complete\npool-manager: ${poolManager.output().slice(-2000)}\nexecutor: ${executor.output().slice(-2000)}`,
      timeoutMs: 90_000,
    });
    pending = 0;
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'success' });
    expect(sim.job(job.id)?.runnerName).toMatch(/^rh-e2e-[0-9a-f]{8}$/);
    await waitFor(async () => (await runners()).some((r) => r.name === sim.job(job.id)?.runnerName && r.state === 'finished'), { what: 'the runner finished', timeoutMs: 30_000 });
    // The ephemeral runner is gone at "GitHub" and in Docker.
    expect(sim.runners().find((r) => r.name === sim.job(job.id)?.runnerName)).toBeUndefined();
    await waitFor(async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`, `${LABEL.pool}=e2e`] } })).length === 0, {
      what: 'no container of the pool left',
    });
    // The level the metrics service reads: runners by state per pool, and the host.
    const sub = nc.subscribe('pool.snapshot', { max: 1 });
    for await (const m of sub) {
      const snapshot = contractsCodec.decode(m.subject, m.data) as PoolSnapshot;
      expect(snapshot.pools.map((p) => p.pool).sort()).toEqual(['broken', 'crash', 'e2e', 'warm']);
      expect(snapshot.hosts.map((h) => [h.host, h.healthy])).toEqual([[HOST, true]]);
    }
    // Without demand no runner is created.
    const before = (await runners()).length;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await runners()).length).toBe(before);
  }, 150_000);

  it('holds the warm minimum and retires surplus waiting runners after their idle timeout', async () => {
    const waiting = async () => (await runners('warm')).filter((r) => r.state === 'starting' || r.state === 'registered' || r.state === 'requested');
    await waitFor(async () => (await waiting()).length === 1, { what: 'one warm runner', timeoutMs: 30_000 });
    pendingBy['warm'] = 2;
    await waitFor(async () => (await waiting()).length === 3, { what: 'three runners for two pending jobs and the warm one', timeoutMs: 30_000 });
    await waitFor(() => sim.runners().filter((r) => r.name.startsWith('rh-warm-') && r.status === 'online').length === 3, { what: 'three runners online at GitHub', timeoutMs: 30_000 });
    // The jobs never come (cancelled elsewhere, say): the two extra runners go after the idle timeout.
    pendingBy['warm'] = 0;
    await waitFor(async () => (await waiting()).length === 1, { what: 'back to the warm minimum', timeoutMs: 30_000 });
    await waitFor(() => sim.runners().filter((r) => r.name.startsWith('rh-warm-')).length === 1, { what: 'their registrations deleted at GitHub', timeoutMs: 30_000 });
    const retired = (await runners('warm')).filter((r) => r.state === 'removed');
    expect(retired).toHaveLength(2);
  }, 120_000);

  it('reports runners of a pool whose image cannot start as failed, and backs off instead of spinning', async () => {
    pendingBy['broken'] = 3;
    await waitFor(async () => (await runners('broken')).some((r) => r.state === 'failed'), { what: 'a failed runner', timeoutMs: 30_000 });
    const [first] = (await runners('broken')).filter((r) => r.state === 'failed');
    expect(first?.failure).toMatch(/runnerhub\/no-such-image:1 is not on host and the pull policy is never/);
    // The next reconcile pass (within a second) turns the failure into the pool's backoff.
    const brokenPool = async () =>
      ((await (await fetch(`${poolManager.url}/api/pools`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { pools: { name: string; lastError: string; backoffUntil: string | null }[] }).pools.find(
        (p) => p.name === 'broken',
      );
    const status = await waitFor(async () => {
      const pool = await brokenPool();
      return pool?.backoffUntil ? pool : undefined;
    }, { what: 'the broken pool backing off' });
    expect(status.lastError).toMatch(/no-such-image/);
    // Three pending jobs, yet within the first backoff window no more than one attempt per failure.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect((await runners('broken')).length).toBeLessThanOrEqual(3);
    pendingBy['broken'] = 0;
  }, 60_000);

  it('leaves no runner at GitHub and no container in Docker that it does not know, after being killed mid-creation', async () => {
    const registered = () => sim.runners().filter((r) => r.name.startsWith('rh-crash-'));
    const containers = async () => docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`, `${LABEL.pool}=crash`] } });
    pendingBy['crash'] = 3;
    await waitFor(async () => (await runners('crash')).length > 0, { what: 'the first crash runner row', timeoutMs: 30_000, intervalMs: 20 });
    // As a power cut would: no shutdown.
    poolManager.kill('SIGKILL');
    await poolManager.exited;
    pendingBy['crash'] = 0;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    poolManager = await startServiceProcess('pool-manager', poolManagerEnv);
    await waitForReady(poolManager);
    // Within the boot timeout plus a few reconcile and reaper periods, everything is accounted for:
    // rows caught mid-creation fail at the boot timeout, what they left behind is reaped.
    const settled = async () => (await runners('crash')).every((r) => ['finished', 'removed', 'failed'].includes(r.state));
    await waitFor(async () => registered().length === 0 && (await containers()).length === 0 && (await settled()), {
      what: `no crash runner left at GitHub (${registered().map((r) => r.name).join(', ')}), in Docker or live in the table`,
      timeoutMs: 60_000,
    });
    expect((await runners('crash')).length).toBeGreaterThan(0);
  }, 120_000);
});
