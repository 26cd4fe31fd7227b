import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, POOL_DEFINITIONS_BUCKET, poolDefinitionKvSubject, type PoolDefinition, create, DemandSnapshotSchema, streamDefinitions, timestampNow, type PoolSnapshot, type SubjectMessages } from '@runnerhub/contracts';
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
  id: string;
  name: string;
  state: string;
  host: string;
  containerId: string | null;
  failure: string | null;
}

const WAITING = ['requested', 'registered', 'starting', 'idle'];

describe('pool-manager with an executor, the simulator and the fake runner image', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let testDb: TestDatabase;
  let sim: GitHubSim;
  let executor: ServiceProcess;
  let executorEnv: Record<string, string>;
  let poolManager: ServiceProcess;
  let poolManagerEnv: Record<string, string>;
  let demandTimer: NodeJS.Timeout | undefined;
  let pending = 0;
  let demandPaused = false;
  let poolsFile: string;
  const pendingBy: Record<string, number> = {};

  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${poolManager.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
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
    poolsFile = join(mkdtempSync(join(tmpdir(), 'pools-')), 'pools.yaml');
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
    executorEnv = {
      NATS_URL: nats.url,
      DOCKER_HOST: DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'),
      EXECUTOR_HOST_ID: HOST,
      DEPLOYMENT_ID: DEPLOYMENT,
      EXECUTOR_HEARTBEAT_SECONDS: '1',
      EXECUTOR_RESERVED_CPUS: '0',
      EXECUTOR_RESERVED_MEMORY_MB: '0',
      // Small enough for one test to fill: the host budget placement must respect.
      EXECUTOR_MAX_CONTAINERS: '4',
      LOG_LEVEL: 'warn',
    };
    executor = await startServiceProcess('container-executor', executorEnv);
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
      if (demandPaused) return;
      void publisher
        .publish(
          'pool.demand',
          create(DemandSnapshotSchema, {
            takenAt: timestampNow(),
            pools: Object.entries({ ...pendingBy, e2e: pending })
              .filter(([, count]) => count > 0)
              .map(([pool, count]) => ({ pool, pending: { normal: count }, running: 0 })),
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
    await waitFor(() => sim.job(job.id)?.status !== 'queued', { what: 'a runner to take the job', timeoutMs: 90_000 });
    // The scheduler says nothing more until the job is over (its in_progress webhook late, say): the
    // last snapshot still counts the job as pending when its runner finishes, and that runner's exit
    // must not be taken for a job still waiting.
    demandPaused = true;
    await waitFor(() => sim.job(job.id)?.status === 'completed', {
      what: `the job to complete\npool-manager: ${poolManager.output().slice(-2000)}\nexecutor: ${executor.output().slice(-2000)}`,
      timeoutMs: 90_000,
    });
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'success' });
    expect(sim.job(job.id)?.runnerName).toMatch(/^rh-e2e-[0-9a-f]{8}$/);
    await waitFor(async () => (await runners()).some((r) => r.name === sim.job(job.id)?.runnerName && r.state === 'finished'), { what: 'the runner finished', timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 2500)); // a few reconcile passes
    expect((await runners()).map((r) => r.state)).toEqual(['finished']);
    pending = 0;
    demandPaused = false;
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
    // Without demand no runner is created: one job, one runner.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await runners()).map((r) => r.state)).toEqual(['finished']);
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

  it('never exceeds a pool maximum or the host budget, however much is pending', async () => {
    const live = async (pool: string) => (await runners(pool)).filter((r) => WAITING.includes(r.state) || r.state === 'busy').length;
    const containers = async () => (await docker.listContainers({ filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`] } })).length;
    pendingBy['warm'] = 10;
    pendingBy['crash'] = 10;
    try {
      // Sample until the host is full and a few passes more: no sample may ever be over a limit.
      let most = { warm: 0, crash: 0, both: 0, containers: 0 };
      let fullSince: number | undefined;
      const deadline = Date.now() + 45_000;
      while (Date.now() < deadline && (fullSince === undefined || Date.now() - fullSince < 4000)) {
        const now = { warm: await live('warm'), crash: await live('crash'), containers: await containers() };
        most = { warm: Math.max(most.warm, now.warm), crash: Math.max(most.crash, now.crash), both: Math.max(most.both, now.warm + now.crash), containers: Math.max(most.containers, now.containers) };
        if (fullSince === undefined && now.warm + now.crash === 4) fullSince = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Each pool may have 3; the host takes 4 containers, and gets them (once a retired runner's
      // container from the test before is gone: it counts against the host until then).
      const state = async () => {
        const rows = await Promise.all(['e2e', 'warm', 'crash', 'broken'].map(async (p) => `${p}: ${(await runners(p)).map((r) => `${r.name} ${r.state}`).join(', ')}`));
        const inDocker = (await docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`] } })).map((c) => `${c.Names[0]} ${c.State}`);
        return `${JSON.stringify(most)}\n${rows.join('\n')}\n${inDocker.join(', ')}`;
      };
      expect(most.both, most.both === 4 ? '' : await state()).toBe(4);
      expect(most.containers).toBeLessThanOrEqual(4);
      expect(most.warm).toBeLessThanOrEqual(3);
      expect(most.crash).toBeLessThanOrEqual(3);
      const starved = await Promise.all(['warm', 'crash'].map(async (pool) => (await api('GET', `/api/pools/${pool}`)).json['lastError'] as string));
      expect(starved.join(' ')).toMatch(/at its maximum of 4 containers/);
    } finally {
      pendingBy['warm'] = 0;
      pendingBy['crash'] = 0;
    }
    await waitFor(async () => (await live('warm')) === 1 && (await live('crash')) === 0, { what: 'back to the warm minimum', timeoutMs: 30_000 });
  }, 60_000);

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

  it('creates, changes, drains and deletes pools through the admin API; file pools are read-only there', async () => {
    const kv = await new Kvm(nc).open(POOL_DEFINITIONS_BUCKET);
    const definition = async (name: string) => {
      const entry = await kv.get(name);
      return entry && entry.operation === 'PUT' ? (contractsCodec.decode(poolDefinitionKvSubject(name), entry.value) as PoolDefinition) : undefined;
    };
    const waiting = async () => (await runners('api')).filter((r) => WAITING.includes(r.state));
    const spec = { name: 'api', repository: 'acme/app', labels: [`api-${suffix}`], image: 'runnerhub/fake-runner:dev', pullPolicy: 'never', cpus: 0.25, memoryMb: 128, pids: 256, minIdle: 1, max: 2, idleTimeoutSeconds: 2 };

    // Mistakes are refused with the field named, and change nothing.
    const invalid = await api('POST', '/api/pools', { ...spec, labels: [], max: -1 });
    expect(invalid.status).toBe(400);
    expect(invalid.json['message']).toMatch(/pool\.labels/);
    expect((await api('POST', '/api/pools', { ...spec, minIdle: 3 })).json['message']).toMatch(/minIdle: 3 is above max 2/);
    expect(await definition('api')).toBeUndefined();
    // A pool from POOLS_FILE cannot be replaced, deleted or shadowed here.
    expect((await api('PUT', '/api/pools/e2e', { ...spec, name: 'e2e' })).status).toBe(409);
    expect((await api('DELETE', '/api/pools/e2e')).json['message']).toMatch(/declared in POOLS_FILE/);
    expect((await api('POST', '/api/pools', { ...spec, name: 'warm' })).status).toBe(409);

    const created = await api('POST', '/api/pools', spec);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'api', source: 'api', minIdle: 1, spec: { runnerGroup: 'Default', placement: 'pack' } });
    expect(await definition('api')).toMatchObject({ name: 'api', labels: [`api-${suffix}`], minIdle: 1, drained: false });
    await waitFor(async () => (await waiting()).length === 1, { what: 'the new pool warm', timeoutMs: 30_000 });

    expect((await api('PUT', '/api/pools/api', { ...spec, minIdle: 2 })).status).toBe(200);
    await waitFor(async () => (await waiting()).length === 2, { what: 'two warm runners after the change', timeoutMs: 30_000 });

    // Drained: waiting runners go at once, none is made; the scheduler sees the flag.
    expect((await api('POST', '/api/pools/api/drain')).json).toMatchObject({ drained: true });
    await waitFor(async () => (await waiting()).length === 0, { what: 'no waiting runner in the drained pool', timeoutMs: 30_000 });
    expect((await definition('api'))?.drained).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await waiting()).toHaveLength(0);
    expect((await api('DELETE', '/api/pools/api/drain')).json).toMatchObject({ drained: false });
    await waitFor(async () => (await waiting()).length === 2, { what: 'warm again after undrain', timeoutMs: 30_000 });

    // An operator removes one runner; the pool makes up for it.
    const [victim] = await waitFor(async () => {
      const started = (await waiting()).filter((r) => r.state === 'starting');
      return started.length > 0 ? started : undefined;
    }, { what: 'a started api runner', timeoutMs: 30_000 });
    const removed = await api('DELETE', `/api/runners/${victim!.id}`);
    expect(removed.status).toBe(202);
    expect(removed.json).toMatchObject({ state: 'removed', failure: 'removed by an operator' });
    expect((await api('DELETE', `/api/runners/${victim!.id}`)).status).toBe(409);
    await waitFor(() => !sim.runners().some((r) => r.name === victim!.name), { what: 'its registration deleted' });
    await waitFor(async () => (await waiting()).length === 2 && !(await waiting()).some((r) => r.id === victim!.id), { what: 'a replacement', timeoutMs: 30_000 });

    // Deleted: gone from the bucket at once, its runners retired, then forgotten.
    expect((await api('DELETE', '/api/pools/api')).status).toBe(202);
    expect(await definition('api')).toBeUndefined();
    expect((await api('GET', '/api/pools/api')).status).toBe(404);
    await waitFor(async () => (await waiting()).length === 0 && !sim.runners().some((r) => r.name.startsWith('rh-api-')), { what: 'the deleted pool has no runner left', timeoutMs: 30_000 });
    await waitFor(async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`, `${LABEL.pool}=api`] } })).length === 0, {
      what: 'no container of the deleted pool',
    });
  }, 150_000);

  it('stops a runner that outlives its maximum lifetime and puts a fresh one in its place', async () => {
    const spec = { name: 'aged', repository: 'acme/app', labels: [`aged-${suffix}`], image: 'runnerhub/fake-runner:dev', pullPolicy: 'never', cpus: 0.25, memoryMb: 128, pids: 256, minIdle: 1, max: 1, maxLifetimeSeconds: 2 };
    expect((await api('POST', '/api/pools', spec)).status).toBe(201);
    const first = await waitFor(async () => (await runners('aged')).find((r) => r.state === 'starting' && r.containerId), { what: 'the first aged runner running', timeoutMs: 30_000 });
    // The executor stops a container past its lifetime at its next re-list (every 15 s).
    await waitFor(async () => ['finished', 'removed', 'failed'].includes((await runners('aged')).find((r) => r.id === first.id)?.state ?? ''), { what: 'the first runner ended', timeoutMs: 40_000 });
    const inspected = await docker.getContainer(first.containerId!).inspect().catch(() => undefined);
    expect(inspected?.State.Running ?? false).toBe(false);
    await waitFor(async () => (await runners('aged')).some((r) => r.id !== first.id && WAITING.includes(r.state)), { what: 'a fresh runner in its place', timeoutMs: 30_000 });
    expect((await api('DELETE', '/api/pools/aged')).status).toBe(202);
    await waitFor(async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`, `${LABEL.pool}=aged`] } })).length === 0, { what: 'no container of the aged pool', timeoutMs: 30_000 });
  }, 120_000);

  it('reloads POOLS_FILE: a new pool is served, a broken file changes nothing, a removed pool lets its running job finish', async () => {
    const declared = readFileSync(poolsFile, 'utf8');
    const later = `  - name: later
    repository: acme/app
    labels: [later-${suffix}]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 1
`;
    const containers = async () => docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`, `${LABEL.pool}=later`] } });
    try {
      writeFileSync(poolsFile, declared + later);
      expect((await api('POST', '/api/pools/reload')).json['pools']).toContain('later');
      pendingBy['later'] = 1;
      const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', `later-${suffix}`], durationMs: 8000 });
      await waitFor(() => sim.job(job.id)?.status === 'in_progress', { what: `a later runner to take the job\n${poolManager.output().slice(-2000)}`, timeoutMs: 60_000 });
      pendingBy['later'] = 0;

      // A mistake in the file is refused with the pool and field named; the pools stay as they were.
      writeFileSync(poolsFile, declared + later.replace('max: 1', 'max: -1'));
      const refused = await api('POST', '/api/pools/reload');
      expect(refused.status).toBe(400);
      expect(refused.json['message']).toMatch(/later.*max/);
      expect((await api('GET', '/api/pools/later')).status).toBe(200);

      // No file, or the directory Docker mounts where the file was missing: named as such, nothing changes.
      rmSync(poolsFile);
      expect((await api('POST', '/api/pools/reload')).json['message']).toContain(`POOLS_FILE ${poolsFile} does not exist`);
      mkdirSync(poolsFile);
      expect((await api('POST', '/api/pools/reload')).json['message']).toContain(`POOLS_FILE ${poolsFile} is a directory`);
      rmSync(poolsFile, { recursive: true });
      expect((await api('GET', '/api/pools/later')).status).toBe(200);

      // Gone from the file while its job runs: the runner is not taken from under the job.
      writeFileSync(poolsFile, declared);
      expect((await api('POST', '/api/pools/reload')).json['pools']).not.toContain('later');
      await waitFor(() => sim.job(job.id)?.status === 'completed', { what: 'the job to complete', timeoutMs: 60_000 });
      expect(sim.job(job.id)?.conclusion).toBe('success');
      await waitFor(async () => (await containers()).length === 0 && !sim.runners().some((r) => r.name.startsWith('rh-later-')), { what: 'nothing of the removed pool left', timeoutMs: 30_000 });
      await waitFor(async () => (await api('GET', '/api/pools/later')).status === 404, { what: 'the removed pool forgotten once its last runner is gone', timeoutMs: 30_000 });
    } finally {
      pendingBy['later'] = 0;
      rmSync(poolsFile, { recursive: true, force: true });
      writeFileSync(poolsFile, declared);
    }
  }, 150_000);

  it('places nothing on a drained host and retires its waiting runners; undrained, it is used again', async () => {
    const waiting = async () => (await runners('warm')).filter((r) => WAITING.includes(r.state));
    await waitFor(async () => (await waiting()).length === 1, { what: 'the warm runner', timeoutMs: 30_000 });
    expect((await api('POST', `/api/hosts/${HOST}/drain`)).json).toEqual({ host: HOST, drained: true });
    await waitFor(async () => (await waiting()).length === 0, { what: 'the warm runner retired from the drained host', timeoutMs: 30_000 });
    const hosts = (await api('GET', '/api/hosts')).json['hosts'] as { host: string; drained: boolean }[];
    expect(hosts.find((h) => h.host === HOST)).toMatchObject({ drained: true });
    const pool = await waitFor(async () => ((await api('GET', '/api/pools/warm')).json['lastError'] as string).includes('draining') || undefined, { what: 'the pool saying why it has no runner' });
    expect(pool).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await waiting()).toHaveLength(0);
    await api('DELETE', `/api/hosts/${HOST}/drain`);
    await waitFor(async () => (await waiting()).length === 1, { what: 'the warm runner back', timeoutMs: 30_000 });
  }, 90_000);

  it("holds an operator's warm minimum on a file pool, for a while or until cleared", async () => {
    const waiting = async () => (await runners('warm')).filter((r) => WAITING.includes(r.state));
    await waitFor(async () => (await waiting()).length === 1, { what: 'the warm runner', timeoutMs: 30_000 });
    // Above the pool's max, or for a pool that does not exist: refused, nothing changes.
    const above = await api('PUT', '/api/pools/warm/warm', { min: 4 });
    expect(above.status).toBe(400);
    expect(above.json['message']).toMatch(/min: 4 is above the pool's max 3/);
    expect((await api('PUT', '/api/pools/nope/warm', { min: 1 })).status).toBe(404);
    expect((await api('GET', '/api/pools/warm')).json).toMatchObject({ warm: null, warmNow: 1 });

    expect((await api('PUT', '/api/pools/warm/warm', { min: 3 })).json).toMatchObject({ warm: { min: 3, until: null }, warmNow: 3, minIdle: 1 });
    await waitFor(async () => (await waiting()).length === 3, { what: 'three warm runners', timeoutMs: 30_000 });
    // None for eight seconds: the surplus goes after its idle timeout, then the pool's own minimum is back.
    const brief = await api('PUT', '/api/pools/warm/warm', { min: 0, seconds: 8 });
    expect(brief.json).toMatchObject({ warmNow: 0, warm: { min: 0, until: expect.any(String) as unknown } });
    await waitFor(async () => (await waiting()).length === 0, { what: 'no warm runner while the operator holds none', timeoutMs: 30_000 });
    await waitFor(async () => (await waiting()).length === 1, { what: 'the pool minimum back once the hold ends', timeoutMs: 30_000 });
    expect((await api('GET', '/api/pools/warm')).json).toMatchObject({ warm: null, warmNow: 1 });
    expect((await api('DELETE', '/api/pools/warm/warm')).json).toMatchObject({ warm: null, warmNow: 1 });
  }, 120_000);

  it('closes a runner whose container vanished while its executor was down, and replaces it', async () => {
    const [runner] = await waitFor(async () => {
      const started = (await runners('warm')).filter((r) => r.state === 'starting' && r.containerId);
      return started.length > 0 ? started : undefined;
    }, { what: 'a started warm runner', timeoutMs: 30_000 });
    executor.kill('SIGKILL');
    await executor.exited;
    await docker.getContainer(runner!.containerId!).remove({ force: true });
    executor = await startServiceProcess('container-executor', executorEnv);
    await waitForReady(executor);
    // The inventory reaper needs the runner to have started well before it asks (30 s).
    const closed = await waitFor(async () => {
      const row = (await runners('warm')).find((r) => r.id === runner!.id);
      return row?.state === 'removed' ? row : undefined;
    }, { what: `the vanished runner closed\npool-manager: ${poolManager.output().slice(-1500)}`, timeoutMs: 90_000 });
    expect(closed.failure).toMatch(/container vanished from .* without an exit being seen/);
    await waitFor(() => !sim.runners().some((r) => r.name === runner!.name), { what: 'its registration deleted' });
    await waitFor(async () => (await runners('warm')).some((r) => r.state === 'starting' && r.id !== runner!.id), { what: 'a new warm runner', timeoutMs: 30_000 });
  }, 150_000);
});
