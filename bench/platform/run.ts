/**
 * bench/platform: the whole platform (simulator, private NATS, fresh database, the six services as
 * processes compiled as their images run them (BENCH_FROM=source: from source as `make run`), real
 * Docker through the socket proxy, the fake runner image) under load,
 * against issue 10's goals. Four figures:
 *
 *  1. decision latency, webhook → create command, at 10 jobs/s for [seconds] (default 60);
 *  2. pick-up time (queued → in_progress at the simulator) with a warm pool and from cold, beside the
 *     floor: a bare `docker run` of the same runner image with a JIT config made beforehand;
 *  3. sustained throughput: completed jobs per minute with real containers, bounded concurrency;
 *  4. resident memory of each service idle and under that load.
 *
 *   node --conditions=runnerhub-source --import tsx bench/platform/run.ts [seconds]
 *
 * Environment: BENCH_RATE (jobs/s of phase 1, default 10), BENCH_SAMPLES (pick-up samples per
 * variant, default 24, 8 when seconds < 60), BENCH_WAVE (jobs in flight in phase 2, default 4),
 * BENCH_THROUGHPUT_SECONDS (default 2 × seconds), BENCH_CONCURRENCY (jobs in flight in phase 3,
 * default 6), BENCH_REDIS_DB (the scratch Redis database the services use, default 13), BENCH_FROM
 * (`dist`, the default, needs `make build`; `source` runs them through tsx), BENCH_PROFILE (services
 * to run under `--cpu-prof`, comma-separated; their .cpuprofile files land in
 * /tmp/runnerhub-bench-profiles/<service> when the platform stops), BENCH_OUTPUT_FILE (writes every
 * service's whole output there at the end), BENCH_ALL_IN_ONE=1 (the six in one process,
 * services/all-in-one, against its own memory goal; `all-in-one.ts` runs both modes in one go).
 *
 * Not a test: it prints figures and PASS/MISS against the goals; nothing fails on a time. The
 * machine is shared, so the load average is printed with every phase.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  contractsCodec,
  create,
  executorHeartbeatSubject,
  ExecutorHeartbeatSchema,
  timestampMs,
  timestampNow,
  type CreateRunnerCommand,
  type DemandSnapshot,
  type JobQueued,
  type RunnerStarted,
  type SubjectMessages,
  type WorkflowJobEvent,
} from '@runnerhub/contracts';
import { createDockerClient } from '@runnerhub/docker';
import { startPlatform, SERVICES, type Platform, type ServiceName } from '@runnerhub/e2e';
import { createPublisher } from '@runnerhub/platform';
import { DOCKER_PROXY_URL, parsePrometheusText, REDIS_URL, repoRoot, sampleValue, waitFor } from '@runnerhub/testing';
import { clearRedisDatabase, cpuSeconds, memoryMB, percentile, type Memory } from './proc.js';

const SECONDS = Number(process.argv[2] ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? (SECONDS < 60 ? 8 : 24));
const WAVE = Number(process.env.BENCH_WAVE ?? 4);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 2 * SECONDS);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 6);
const REDIS_DB = Number(process.env.BENCH_REDIS_DB ?? 13);
const IMAGE = 'runnerhub/fake-runner:dev';
const SINK = 'bench-sink';
const ALL_IN_ONE = process.env.BENCH_ALL_IN_ONE === '1';
// Memory: issue 10's goal for six processes; issue 27's for the six in one process.
const GOALS = { decisionP99Ms: 100, warmP95Ms: 1000, coldOverFloorP95Ms: 1000, residentTotalMB: ALL_IN_ONE ? 150 : 450 };
// Issue 28: our share of pick-up against the floor, and throughput against a bare loop, same run.
const SHARE_GOALS = { coldShareOverCreateStartP95Ms: 300, warmShareP95Ms: 50, throughputRatio: 0.9 };
// As the service images run them (compiled, `make build`), unless BENCH_FROM=source (as `make run`).
const COMPILED = process.env.BENCH_FROM !== 'source';

const now = (): number => performance.timeOrigin + performance.now();
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const fmt = (ms: number): string => (Number.isNaN(ms) ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);
const say = (line: string): void => console.log(line);

// Runner pools. The real ones select the executor by its label; `sink` selects a host that only
// exists as heartbeats this bench publishes (see phase 1). 0.25 CPU each as the e2e tests use:
// placement never overcommits the host's 2 cores, which is what bounds the real pools here.
const real = `    image: ${IMAGE}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    hostSelector: { bench: real }`;
const pools = `pools:
  - name: sink
    repository: acme/app
    labels: [sink]
    image: ${IMAGE}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 5000
    bootTimeoutSeconds: 7200
    checkRuns: false
    hostSelector: { bench: sink }
  - name: warm
    repository: acme/app
    labels: [warm]
${real}
    minIdle: ${WAVE}
    max: ${2 * WAVE}
  - name: cold
    repository: acme/app
    labels: [cold]
${real}
    max: ${WAVE}
  - name: load
    repository: acme/app
    labels: [load]
${real}
    max: ${CONCURRENCY + 2}
`;

// ---------------------------------------------------------------------------------------------
// Start the platform with a Redis database of its own and GitHub's JIT limit lifted.
const redisUrl = `${REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`;
await clearRedisDatabase(redisUrl);
const withRedis = { REDIS_URL: redisUrl };
const profiled = (process.env.BENCH_PROFILE?.split(',').filter(Boolean) ?? []) as ServiceName[];
say(`platform bench: decision ${SECONDS} s at ${RATE} jobs/s, pick-up ${SAMPLES} samples per variant in waves of ${WAVE}, throughput ${THROUGHPUT_SECONDS} s at ${CONCURRENCY} in flight`);
say(`load average at start (1/5/15 min): ${load()} on this ${cpus().length}-core machine`);
const startedAt = now();
if (COMPILED && !existsSync(`${repoRoot}services/${SERVICES[0]}/dist/main.js`)) throw new Error('the services are not compiled: run `make build` first (or BENCH_FROM=source)');
const platform: Platform = await startPlatform({
  pools,
  compiled: COMPILED,
  allInOne: ALL_IN_ONE,
  nodeArgs: Object.fromEntries(profiled.map((service) => [service, ['--cpu-prof', `--cpu-prof-dir=/tmp/runnerhub-bench-profiles/${service}`]])),
  common: { GITHUB_JIT_PER_MINUTE: '1000' },
  env: {
    'container-executor': { EXECUTOR_MAX_CONTAINERS: '16', EXECUTOR_LABELS: 'bench=real' },
    'pool-manager': { ...withRedis, POOL_REAPER_SECONDS: '30' },
    scheduler: withRedis,
    'webhook-gateway': withRedis,
    'status-reporter': withRedis,
    metrics: withRedis,
  },
});
say(`platform up in ${((now() - startedAt) / 1000).toFixed(0)} s (deployment ${platform.deployment})`);
const { sim, nc } = platform;
// GitHub refuses JIT registrations beyond ≈166/min per App; 10 jobs/s needs 600/min (see the docs).
sim.setRateLimits({ jitPerMinute: 100_000 });

const pid = (name: ServiceName): number | undefined => platform.services[name]?.child.pid;
/** The processes to measure: the six, or the one all-in-one process (under the first name). */
const MEASURED: readonly ServiceName[] = ALL_IN_ONE ? SERVICES.slice(0, 1) : SERVICES;

// The floor's `docker run`: a runner registered beforehand, its container created and started
// through the same socket proxy, Docker's default bridge, none of our hardening.
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));
const floorRunner = (label: string): { name: string; config: string } => {
  const name = `bench-${label}-${randomBytes(3).toString('hex')}`;
  return { name, config: sim.createJitRunner({ repository: 'acme/app', name, labels: ['self-hosted', label] }).encodedJitConfig };
};
async function bareRun(config: string) {
  const container = await docker.createContainer({ Image: IMAGE, Cmd: ['/home/runner/run.sh'], Env: [`ACTIONS_RUNNER_INPUT_JITCONFIG=${config}`], Labels: { 'runnerhub.bench': 'platform-floor' } });
  await container.start();
  return container;
}

// Timestamps of what the services publish, from plain subscriptions on the bench's connection.
const ghAt = new Map<string, number>();
const queuedAt = new Map<string, number>();
const creates = new Map<string, number[]>();
const demandAt: number[] = [];
function follow(subject: string, handle: (subject: string, data: Uint8Array, at: number) => void): void {
  const sub = nc.subscribe(subject);
  void (async () => {
    for await (const m of sub) handle(m.subject, m.data, now());
  })();
}
// When the gateway received each job's webhook, as it recorded it (the delivery's received_at).
const receivedAt = new Map<string, number>();
follow('gh.workflow_job.queued', (s, d, at) => {
  const event = contractsCodec.decode(s, d) as WorkflowJobEvent;
  ghAt.set(String(event.jobId), at);
  if (event.delivery?.receivedAt) receivedAt.set(String(event.jobId), timestampMs(event.delivery.receivedAt));
});
follow('job.queued', (s, d, at) => queuedAt.set(String((contractsCodec.decode(s, d) as JobQueued).job?.jobId), at));
follow('pool.demand', (s, d, at) => {
  if ((contractsCodec.decode(s, d) as DemandSnapshot).pools.some((p) => (p.pending?.normal ?? 0) > 0)) demandAt.push(at);
});
// Per runner name: when its create command went out and when the executor reported it started.
const commandedAt = new Map<string, number>();
const runnerStartedAt = new Map<string, number>();
follow('cmd.executor.*.create', (s, d, at) => {
  const runner = (contractsCodec.decode(s, d) as CreateRunnerCommand).runner;
  const pool = runner?.pool ?? '';
  let list = creates.get(pool);
  if (!list) creates.set(pool, (list = []));
  list.push(at);
  commandedAt.set(runner?.runnerName ?? '', at);
});
// When the executor's start call for the runner's container returned, as it recorded it (started_at).
const containerStartedAt = new Map<string, number>();
follow('runner.started', (s, d, at) => {
  const started = contractsCodec.decode(s, d) as RunnerStarted;
  runnerStartedAt.set(started.runner?.runnerName ?? '', at);
  if (started.startedAt) containerStartedAt.set(started.runner?.runnerName ?? '', timestampMs(started.startedAt));
});

// Memory: every service's RSS, PSS and USS once a second, tagged with the phase.
type Phase = 'startup' | 'idle' | 'decision' | 'warm' | 'cold' | 'floor' | 'throughput' | 'bare-throughput';
let phase: Phase = 'startup';
const memory: Array<{ phase: Phase; values: Record<ServiceName, Memory> }> = [];
const sampleMemory = (): void => {
  memory.push({ phase, values: Object.fromEntries(SERVICES.map((s) => [s, memoryMB(pid(s))])) as Record<ServiceName, Memory> });
};
const cpuAt = new Map<Phase, Record<ServiceName, number>>();
const cpuEnd = new Map<Phase, Record<ServiceName, number>>();
const cpuNow = (): Record<ServiceName, number> => Object.fromEntries(SERVICES.map((s) => [s, cpuSeconds(pid(s))])) as Record<ServiceName, number>;
const phaseLoad = new Map<Phase, string>();
function enter(next: Phase): void {
  if (cpuAt.has(phase) && !cpuEnd.has(phase)) cpuEnd.set(phase, cpuNow());
  phase = next;
  cpuAt.set(next, cpuNow());
  phaseLoad.set(next, load());
  say(`\n== ${next} (load average ${load()})`);
}
const memoryTimer = setInterval(sampleMemory, 1000);
// The simulator runs in this process: its event loop delay says whether the bench itself held things up.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const benchCpu = process.cpuUsage();

interface Result {
  decision?: {
    jobs: number;
    commands: number;
    perSecond: number;
    loopP99: number;
    fromCreate: number[];
    fromGateway: number[];
    /** Webhook received at the gateway (its received_at) → create command: issue 28's decision. */
    fromReceived: number[];
    stages: Record<string, number[]>;
    /** Event loop delay of each service over the phase, ms. */
    serviceLoopDelays?: Record<string, { p99: number; max: number }>;
  };
  warm?: number[];
  cold?: number[];
  floor?: number[];
  coldStages?: Record<string, number[]>;
  /** Mean ms of each executor create step during the cold phase (runnerhub_executor_create_step_seconds). */
  coldExecutorSteps?: Record<string, number>;
  floorStarts?: number[];
  /** Issue 28's split of pick-up into our share and the runner's own start (see shares()). */
  share?: { warm: number[]; warmFromReceived: number[]; cold: number[]; coldBoot: number[]; floorBoot: number[] };
  /** The bare loop beside phase 3: the same docker run of the runner image, the same concurrency and window. */
  bareThroughput?: { completed: number; perMinute: number; seconds: number };
  throughput?: { completed: number; perMinute: number; seconds: number; latencies: number[]; decisions: number[] };
}
const result: Result = {};
// Warm jobs and when a runner took them: their webhooks may reach the gateway after that, so the
// figure from received_at is made at the end.
const warmTaken: Array<{ id: string; startedAt: number }> = [];
const share = (result.share = { warm: [] as number[], warmFromReceived: [] as number[], cold: [] as number[], coldBoot: [] as number[], floorBoot: [] as number[] });

try {
  // -------------------------------------------------------------------------------------------
  // Idle: the services with nothing to do but the warm pool standing.
  await waitFor(() => sim.runners().filter((r) => r.name.startsWith('rh-warm-') && r.status === 'online' && !r.busy).length >= WAVE, {
    timeoutMs: 180_000,
    intervalMs: 250,
    what: `${WAVE} idle warm runners\n${platform.output()}`,
  });
  enter('idle');
  await sleep(10_000);

  // -------------------------------------------------------------------------------------------
  // 1. Decision latency. The pool `sink` places on a host that only exists as heartbeats published
  // here (room for thousands of runners), so every job's create command is issued as soon as the
  // platform decided, and no container is started: 600 runner containers in a minute would
  // measure this machine's Docker (≈5 containers/s, bench-executor), not the decision. The
  // scheduler, pool-manager (JIT registration at the simulator included) and NATS path is the
  // real one; the create commands wait unconsumed on cmd.executor.bench-sink.create.
  enter('decision');
  loopDelay.reset();
  await serviceLoopDelays();
  const heartbeats = createPublisher<SubjectMessages>(nc, contractsCodec);
  const instance = randomBytes(3).toString('hex');
  let beat = 0;
  const sinkBeat = (): void => {
    void heartbeats
      .publish(
        executorHeartbeatSubject(SINK),
        create(ExecutorHeartbeatSchema, {
          host: SINK,
          deploymentId: platform.deployment,
          instanceId: instance,
          sentAt: timestampNow(),
          cpus: 100_000,
          memoryBytes: 1n << 50n,
          maxContainers: 1_000_000,
          images: [IMAGE],
          labels: { bench: 'sink' },
        }),
        { msgId: `heartbeat:${instance}:${beat++}` },
      )
      .catch(() => undefined);
  };
  sinkBeat();
  const beatTimer = setInterval(sinkBeat, 1000);
  await sleep(2000);
  const sinkJobs: Array<{ id: number; t0: number }> = [];
  const total = Math.round(SECONDS * RATE);
  const t = now();
  for (let i = 0; i < total; i++) {
    const wait = t + (i * 1000) / RATE - now();
    if (wait > 0) await sleep(wait);
    const t0 = now();
    sinkJobs.push({ id: sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'sink'], command: 'true' }).id, t0 });
  }
  say(`${total} jobs created in ${((now() - t) / 1000).toFixed(1)} s`);
  await waitFor(() => (creates.get('sink')?.length ?? 0) >= total, { timeoutMs: 120_000, intervalMs: 200, what: 'a create command per job' }).catch(() => undefined);
  clearInterval(beatTimer);
  const sinkCreates = creates.get('sink') ?? [];
  const paired = sinkJobs.slice(0, sinkCreates.length).map((j, i) => ({ ...j, created: sinkCreates[i]! }));
  // The scheduler publishes a job's job.queued fact and the demand snapshot that counts it from the
  // same commit, in either order: the snapshot paired with a job is the first one after the gateway
  // published its webhook (jobs are 1/RATE apart, far more than the scheduler takes for one).
  const stages: Record<string, number[]> = {
    'sim → gateway published (gh.workflow_job.queued)': [],
    'gateway → scheduler job.queued': [],
    'gateway → next pool.demand (scheduler)': [],
    'pool.demand → create command (k-th)': [],
  };
  for (const p of paired) {
    const gw = ghAt.get(String(p.id));
    const q = queuedAt.get(String(p.id));
    const d = gw === undefined ? undefined : demandAt.find((x) => x >= gw);
    if (gw !== undefined) stages['sim → gateway published (gh.workflow_job.queued)']!.push(gw - p.t0);
    if (gw !== undefined && q !== undefined) stages['gateway → scheduler job.queued']!.push(q - gw);
    if (gw !== undefined && d !== undefined) stages['gateway → next pool.demand (scheduler)']!.push(d - gw);
    if (d !== undefined) stages['pool.demand → create command (k-th)']!.push(p.created - d);
  }
  result.decision = {
    jobs: total,
    commands: sinkCreates.length,
    perSecond: sinkCreates.length > 1 ? ((sinkCreates.length - 1) * 1000) / (sinkCreates.at(-1)! - sinkCreates[0]!) : Number.NaN,
    loopP99: loopDelay.percentile(99) / 1e6,
    fromCreate: paired.map((p) => p.created - p.t0),
    fromGateway: paired.flatMap((p) => (ghAt.has(String(p.id)) ? [p.created - ghAt.get(String(p.id))!] : [])),
    fromReceived: paired.flatMap((p) => (receivedAt.has(String(p.id)) ? [p.created - receivedAt.get(String(p.id))!] : [])),
    stages,
  };
  result.decision.serviceLoopDelays = await serviceLoopDelays();
  // Clean up: the jobs are cancelled at "GitHub", the pool drained; the sink runners stay registered.
  for (const j of sinkJobs) sim.cancelJob(j.id);
  await platform.api('pool-manager', '/api/pools/sink/drain', { method: 'POST' });
  printDecision();

  // -------------------------------------------------------------------------------------------
  // 2a. Warm pick-up: waves of WAVE jobs, each wave only once WAVE warm runners wait idle.
  const idleWarm = (): number => sim.runners().filter((r) => r.name.startsWith('rh-warm-') && r.status === 'online' && !r.busy).length;
  enter('warm');
  result.warm = [];
  while (result.warm.length < SAMPLES) {
    await waitFor(() => idleWarm() >= WAVE, { timeoutMs: 180_000, intervalMs: 100, what: `${WAVE} idle warm runners\n${platform.output()}` });
    await sleep(500);
    const wave = Array.from({ length: Math.min(WAVE, SAMPLES - result.warm.length) }, () => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'warm'], command: 'true' }).id);
    const jobs = await waitFor(() => { const js = wave.map((id) => sim.job(id)!); return js.every((j) => j.status === 'completed') && js; }, { timeoutMs: 180_000, what: `warm wave\n${platform.output()}` });
    result.warm.push(...jobs.map((j) => Date.parse(j.startedAt!) - Date.parse(j.createdAt)));
    // A warm job goes from GitHub's queue to a runner that already polls: nothing of ours is on
    // that path, so the whole pick-up bounds our share from above. From the webhook's arrival at
    // the gateway it is often negative (the runner took the job before the gateway heard of it).
    share.warm.push(...jobs.map((j) => Date.parse(j.startedAt!) - Date.parse(j.createdAt)));
    warmTaken.push(...jobs.map((j) => ({ id: String(j.id), startedAt: Date.parse(j.startedAt!) })));
  }
  say(`warm pick-up: p50 ${fmt(percentile(result.warm, 50))}, p95 ${fmt(percentile(result.warm, 95))} (${result.warm.length} jobs)`);
  await platform.api('pool-manager', '/api/pools/warm/drain', { method: 'POST' });

  // 2b. Cold pick-up: the same waves on a pool with no runner waiting (minIdle 0, nothing left over).
  enter('cold');
  result.cold = [];
  const coldStages = (result.coldStages = {
    'queued → create command for the runner that took it': [] as number[],
    'create command → runner.started (executor)': [] as number[],
    'runner.started → in_progress (runner boots, polls)': [] as number[],
  });
  // The drained warm pool's runners still hold host capacity until they are gone: a cold wave that
  // started meanwhile would measure waiting for the host budget (a heartbeat, ≈5 s), not a cold start.
  await waitFor(async () => (await platform.containers()).every((c) => c.pool !== 'warm'), { timeoutMs: 180_000, intervalMs: 250, what: 'no warm runner left' });
  const stepsBeforeCold = await executorCreateSteps();
  while (result.cold.length < SAMPLES) {
    await waitFor(async () => (await platform.containers()).every((c) => c.pool !== 'cold') && sim.runners().every((r) => !r.name.startsWith('rh-cold-') || r.status === 'offline'), {
      timeoutMs: 180_000,
      intervalMs: 250,
      what: 'no cold runner left',
    });
    await sleep(500);
    const wave = Array.from({ length: Math.min(WAVE, SAMPLES - result.cold.length) }, () => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'cold'], command: 'true' }).id);
    const jobs = await waitFor(() => { const js = wave.map((id) => sim.job(id)!); return js.every((j) => j.status === 'completed') && js; }, { timeoutMs: 180_000, what: `cold wave\n${platform.output()}` });
    result.cold.push(...jobs.map((j) => Date.parse(j.startedAt!) - Date.parse(j.createdAt)));
    // Where each job's wait went, through the runner that took it (made for it or not).
    for (const j of jobs) {
      const commanded = commandedAt.get(j.runnerName ?? '');
      const started = runnerStartedAt.get(j.runnerName ?? '');
      if (commanded === undefined || started === undefined) continue;
      coldStages['queued → create command for the runner that took it'].push(commanded - Date.parse(j.createdAt));
      coldStages['create command → runner.started (executor)'].push(started - commanded);
      coldStages['runner.started → in_progress (runner boots, polls)'].push(Date.parse(j.startedAt!) - started);
      // Issue 28's split, from the timestamps the services record: the gateway's received_at and
      // the executor's started_at (the container's start call returned). The runner process is
      // "polling" when its first poll took the job (in_progress at the simulator): jobs wait for it.
      const received = receivedAt.get(String(j.id));
      const containerStarted = containerStartedAt.get(j.runnerName ?? '');
      if (received === undefined || containerStarted === undefined) continue;
      share.cold.push(containerStarted - received);
      share.coldBoot.push(Date.parse(j.startedAt!) - containerStarted);
    }
  }
  say(`cold pick-up: p50 ${fmt(percentile(result.cold, 50))}, p95 ${fmt(percentile(result.cold, 95))} (${result.cold.length} jobs)`);
  const stepsAfterCold = await executorCreateSteps();
  result.coldExecutorSteps = Object.fromEntries(
    [...stepsAfterCold].map(([step, after]) => {
      const before = stepsBeforeCold.get(step) ?? { sum: 0, count: 0 };
      return [step, after.count > before.count ? ((after.sum - before.sum) / (after.count - before.count)) * 1000 : 0];
    }),
  );

  // 2c. The floor: what a person gets from a bare `docker run --rm -e ACTIONS_RUNNER_INPUT_JITCONFIG=…
  // <image> /home/runner/run.sh` of a runner registered beforehand, through the same socket proxy: no
  // webhook, no decision, no registration, Docker's default bridge, none of our hardening. Timed as the
  // cold samples (queued → in_progress at the simulator), each wave's containers started the moment its
  // jobs are queued; labels no pool of ours serves.
  enter('floor');
  result.floor = [];
  const floorStarts = (result.floorStarts = [] as number[]);
  while (result.floor.length < SAMPLES) {
    const n = Math.min(WAVE, SAMPLES - result.floor.length);
    const configs = Array.from({ length: n }, () => floorRunner('floor'));
    const wave = configs.map(() => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'floor'], command: 'true' }).id);
    const floorStartedAt = new Map<string, number>();
    const containers = await Promise.all(
      configs.map(async ({ name, config }) => {
        const t0 = now();
        const container = await bareRun(config);
        floorStarts.push(now() - t0);
        floorStartedAt.set(name, now());
        return container;
      }),
    );
    const jobs = await waitFor(() => { const js = wave.map((id) => sim.job(id)!); return js.every((j) => j.status === 'completed') && js; }, { timeoutMs: 180_000, what: 'floor wave' });
    result.floor.push(...jobs.map((j) => Date.parse(j.startedAt!) - Date.parse(j.createdAt)));
    for (const j of jobs) if (floorStartedAt.has(j.runnerName ?? '')) share.floorBoot.push(Date.parse(j.startedAt!) - floorStartedAt.get(j.runnerName ?? '')!);
    await Promise.all(containers.map(async (c) => { await c.wait(); await c.remove({ force: true, v: true }); }));
  }
  say(`floor (bare docker run of the runner): p50 ${fmt(percentile(result.floor, 50))}, p95 ${fmt(percentile(result.floor, 95))}`);

  // -------------------------------------------------------------------------------------------
  // 3. Sustained throughput: CONCURRENCY jobs in flight for THROUGHPUT_SECONDS, each completion
  // replaced at once; jobs completed inside the window count.
  enter('throughput');
  const inFlight = new Map<number, number>();
  const done: Array<{ id: number; t0: number; completedAt: number; createdAt: number }> = [];
  const loadJobs: Array<{ id: number; t0: number }> = [];
  const createsBefore = creates.get('load')?.length ?? 0;
  const windowStart = now();
  const windowEnd = windowStart + THROUGHPUT_SECONDS * 1000;
  let lastReport = windowStart;
  while (now() < windowEnd) {
    while (inFlight.size < CONCURRENCY) {
      const t0 = now();
      const id = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'load'], command: 'true' }).id;
      inFlight.set(id, t0);
      loadJobs.push({ id, t0 });
    }
    await sleep(50);
    for (const [id, t0] of inFlight) {
      const job = sim.job(id)!;
      if (job.status === 'completed') {
        inFlight.delete(id);
        done.push({ id, t0, completedAt: Date.parse(job.completedAt!), createdAt: Date.parse(job.createdAt) });
      }
    }
    if (now() - lastReport >= 30_000) {
      lastReport = now();
      say(`  ${((lastReport - windowStart) / 1000).toFixed(0)} s: ${done.length} jobs completed, load average ${load()}`);
    }
  }
  const completed = done.filter((d) => d.completedAt <= windowEnd);
  const loadCreates = (creates.get('load') ?? []).slice(createsBefore);
  result.throughput = {
    completed: completed.length,
    seconds: THROUGHPUT_SECONDS,
    perMinute: (completed.length * 60) / THROUGHPUT_SECONDS,
    latencies: completed.map((d) => d.completedAt - d.createdAt),
    decisions: loadJobs.slice(0, loadCreates.length).map((j, i) => loadCreates[i]! - j.t0),
  };
  cpuEnd.set('throughput', cpuNow());
  say(`throughput: ${completed.length} jobs in ${THROUGHPUT_SECONDS} s = ${result.throughput.perMinute.toFixed(1)} jobs/min`);
  // Let the last jobs finish before stopping, so nothing is killed mid-job.
  await waitFor(() => [...inFlight.keys()].every((id) => sim.job(id)?.status === 'completed'), { timeoutMs: 120_000 }).catch(() => undefined);

  // 3b. The peer of phase 3 (issue 28): a bare loop that does the same `docker run` of the same
  // runner image, CONCURRENCY at once for the same window: each worker registers a runner, queues
  // a job for it, creates and starts its container, and once the job completed starts the next
  // (the finished container is waited for and removed behind, as our executor does).
  enter('bare-throughput');
  await waitFor(async () => (await platform.containers()).every((c) => c.pool !== 'load'), { timeoutMs: 120_000, intervalMs: 250, what: 'no load runner left' }).catch(() => undefined);
  const bareDone: number[] = [];
  const behind: Array<Promise<unknown>> = [];
  const bareStart = now();
  const bareEnd = bareStart + THROUGHPUT_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (now() < bareEnd) {
        const { config } = floorRunner('bare');
        const id = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'bare'], command: 'true' }).id;
        const container = await bareRun(config);
        const job = await waitFor(() => sim.job(id)?.status === 'completed' && sim.job(id), { timeoutMs: 120_000, intervalMs: 50, what: 'bare job' });
        bareDone.push(Date.parse(job.completedAt!));
        behind.push(container.wait().then(() => container.remove({ force: true, v: true })).catch(() => undefined));
      }
    }),
  );
  await Promise.all(behind);
  const bareCompleted = bareDone.filter((at) => at <= bareEnd).length;
  result.bareThroughput = { completed: bareCompleted, seconds: THROUGHPUT_SECONDS, perMinute: (bareCompleted * 60) / THROUGHPUT_SECONDS };
  say(`bare loop: ${bareCompleted} jobs in ${THROUGHPUT_SECONDS} s = ${result.bareThroughput.perMinute.toFixed(1)} jobs/min`);
} finally {
  // Every service's whole output, for a run whose figures need explaining (the log lines carry timings).
  if (process.env.BENCH_OUTPUT_FILE) writeFileSync(process.env.BENCH_OUTPUT_FILE, platform.output(Number.MAX_SAFE_INTEGER));
  clearInterval(memoryTimer);
  report();
  await platform.stop();
  await clearRedisDatabase(redisUrl).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
/**
 * A webhook GitHub could not deliver reaches us only through redelivery or the queued-jobs
 * reconciler, seconds later: the first thing to look at when a pick-up has a long tail.
 */
function printDeliveries(): void {
  const deliveries = sim.deliveries();
  const failed = deliveries.filter((d) => d.statusCode < 200 || d.statusCode >= 300);
  const counted = new Map<string, number>();
  for (const d of failed) counted.set(`${d.statusCode} ${d.status}`, (counted.get(`${d.statusCode} ${d.status}`) ?? 0) + 1);
  const byStatus = [...counted].map(([status, n]) => `${n} × ${status}`);
  say(`webhook deliveries: ${deliveries.length}, not accepted ${failed.length}${byStatus.length ? ` (${byStatus.join(', ')})` : ''}, redeliveries ${deliveries.filter((d) => d.redelivery).length}`);
}

/** Each service's event loop delay (p99, max) since the previous call: the gauges reset on every scrape. */
async function serviceLoopDelays(): Promise<Record<string, { p99: number; max: number }>> {
  const ms = (samples: ReturnType<typeof parsePrometheusText>, name: string) => (sampleValue(samples, name) ?? NaN) * 1000;
  const entries = await Promise.all(
    SERVICES.map(async (service) => {
      const samples = parsePrometheusText(await (await fetch(`${platform.services[service]!.url}/metrics`)).text());
      return [service, { p99: ms(samples, 'nodejs_eventloop_delay_p99_seconds'), max: ms(samples, 'nodejs_eventloop_delay_max_seconds') }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

function printDecision(): void {
  const d = result.decision;
  if (!d) return;
  say(`decision: ${d.jobs} jobs at ${RATE}/s, ${d.commands} create commands for pool sink, issued at ${d.perSecond.toFixed(1)}/s; bench (simulator) event loop delay p99 ${fmt(d.loopP99)}`);
  say('  method: jobs in creation order paired with the pool\'s create commands in arrival order (runners are made per pool demand, not per job: the k-th command answers the k-th job)');
  say(`  webhook at the gateway (gh.workflow_job.queued published) → create command: p50 ${fmt(percentile(d.fromGateway, 50))}, p99 ${fmt(percentile(d.fromGateway, 99))}, max ${fmt(Math.max(...d.fromGateway))}`);
  say(`  createJob (webhook queued at the simulator, which delivers one at a time) → create command: p50 ${fmt(percentile(d.fromCreate, 50))}, p99 ${fmt(percentile(d.fromCreate, 99))}`);
  for (const [stage, values] of Object.entries(d.stages)) say(`    ${stage.padEnd(52)} p50 ${fmt(percentile(values, 50)).padStart(7)}  p99 ${fmt(percentile(values, 99)).padStart(7)}`);
  const loops = Object.entries(d.serviceLoopDelays ?? {});
  if (loops.length) say(`  event loop delay of each service over the phase, p99 / max: ${loops.map(([service, l]) => `${service} ${fmt(l.p99)} / ${fmt(l.max)}`).join(' · ')}`);
}

/** Sum and count of each step in the executor's runnerhub_executor_create_step_seconds histogram. */
async function executorCreateSteps(): Promise<Map<string, { sum: number; count: number }>> {
  const samples = parsePrometheusText(await (await fetch(`${platform.services['container-executor']!.url}/metrics`)).text());
  const steps = new Map<string, { sum: number; count: number }>();
  for (const s of samples.filter((x) => x.name === 'runnerhub_executor_create_step_seconds_count')) {
    const step = s.labels['step']!;
    steps.set(step, { count: s.value, sum: sampleValue(samples, 'runnerhub_executor_create_step_seconds_sum', { step }) ?? 0 });
  }
  return steps;
}

function report(): void {
  say('\n================ platform bench results ================');
  const used = process.cpuUsage(benchCpu);
  say(`bench process (simulator included) CPU: ${((used.user + used.system) / 1e6).toFixed(1)} s`);
  say(`load average now: ${load()}; per phase at its start: ${[...phaseLoad].map(([p, l]) => `${p} ${l}`).join('; ')}`);
  printDecision();
  printDeliveries();
  const w = result.warm ?? [];
  const c = result.cold ?? [];
  const f = result.floor ?? [];
  if (w.length) say(`pick-up warm (queued → in_progress): p50 ${fmt(percentile(w, 50))}, p95 ${fmt(percentile(w, 95))}, n=${w.length}`);
  if (c.length) say(`pick-up cold:                         p50 ${fmt(percentile(c, 50))}, p95 ${fmt(percentile(c, 95))}, n=${c.length}`);
  if (f.length) {
    say(`floor, bare docker run of the runner: p50 ${fmt(percentile(f, 50))}, p95 ${fmt(percentile(f, 95))}, n=${f.length}; its create + start p50 ${fmt(percentile(result.floorStarts ?? [], 50))}, p95 ${fmt(percentile(result.floorStarts ?? [], 95))}`);
    if (c.length) say(`cold p95 − floor p95: ${fmt(percentile(c, 95) - percentile(f, 95))}; cold/floor p50 ratio ${(percentile(c, 50) / percentile(f, 50)).toFixed(2)}`);
  }
  for (const [stage, values] of Object.entries(result.coldStages ?? {})) say(`    cold: ${stage.padEnd(52)} p50 ${fmt(percentile(values, 50)).padStart(7)}  p95 ${fmt(percentile(values, 95)).padStart(7)}`);
  const steps = Object.entries(result.coldExecutorSteps ?? {});
  if (steps.length) say(`      executor steps during the cold phase, mean: ${steps.map(([step, ms]) => `${step} ${fmt(ms)}`).join(' · ')}`);
  printShares();
  const tp = result.throughput;
  if (tp) {
    say(`throughput: ${tp.perMinute.toFixed(1)} jobs/min (${tp.completed} in ${tp.seconds} s, ${CONCURRENCY} in flight); job created → completed p50 ${fmt(percentile(tp.latencies, 50))}, p95 ${fmt(percentile(tp.latencies, 95))}`);
    say(`  decision under this load (real executor, pool max ${CONCURRENCY + 2}, includes waiting for a slot): p50 ${fmt(percentile(tp.decisions, 50))}, p99 ${fmt(percentile(tp.decisions, 99))}`);
  }
  const bare = result.bareThroughput;
  if (bare) say(`bare loop, the same docker run of ${IMAGE} with ${CONCURRENCY} in flight: ${bare.perMinute.toFixed(1)} jobs/min (${bare.completed} in ${bare.seconds} s)${tp ? `; ours/bare ${(tp.perMinute / bare.perMinute).toFixed(2)}` : ''}`);

  // Memory and CPU per service.
  const idle = memory.filter((s) => s.phase === 'idle');
  const busy = memory.filter((s) => s.phase !== 'idle' && s.phase !== 'startup');
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  const cpu = (p: Phase, s: ServiceName): number => (cpuEnd.get(p)?.[s] ?? Number.NaN) - (cpuAt.get(p)?.[s] ?? Number.NaN);
  const col = (n: number, width: number): string => n.toFixed(0).padStart(width);
  say(`\nmemory in MB, ${ALL_IN_ONE ? 'all six in one process' : 'six processes'}, services ${COMPILED ? 'compiled (dist/, as the images run them)' : 'from source (tsx)'}, NODE_OPTIONS as the images set them`);
  say('service              idle RSS  idle PSS   peak RSS  peak PSS  peak USS   CPU s in decision  CPU s in throughput');
  for (const s of MEASURED) {
    const peak = (k: keyof Memory): number => Math.max(...busy.map((x) => x.values[s][k]));
    say(
      `${(ALL_IN_ONE ? 'all-in-one' : s).padEnd(20)} ${col(mean(idle.map((x) => x.values[s].rss)), 8)}  ${col(mean(idle.map((x) => x.values[s].pss)), 8)}   ${col(peak('rss'), 8)}  ${col(peak('pss'), 8)}  ${col(peak('uss'), 8)}   ${cpu('decision', s).toFixed(1).padStart(17)}  ${cpu('throughput', s).toFixed(1).padStart(19)}`,
    );
  }
  const sum = (k: keyof Memory) => (x: { values: Record<ServiceName, Memory> }): number => MEASURED.reduce((a, s) => a + x.values[s][k], 0);
  const peakTotal = (k: keyof Memory): number => Math.max(...busy.map(sum(k)));
  if (!ALL_IN_ONE) say(
    `${'all six'.padEnd(20)} ${col(mean(idle.map(sum('rss'))), 8)}  ${col(mean(idle.map(sum('pss'))), 8)}   ${col(peakTotal('rss'), 8)}  ${col(peakTotal('pss'), 8)}  ${col(peakTotal('uss'), 8)}   (peaks of the sum of the six, sampled once a second)`,
  );
  say('  RSS counts the node binary\'s pages once per process; PSS shares them out, so the sum of PSS is what the six occupy together.');

  // Goals.
  const goal = (name: string, figure: number, limit: number, unit: string): void =>
    say(`${name.padEnd(44)} ${`${figure.toFixed(0)} ${unit}`.padStart(10)}  goal < ${limit} ${unit}  ${Number.isNaN(figure) ? 'n/a' : figure < limit ? 'PASS' : 'MISS'}`);
  say('\ngoal                                             figure  goal          result');
  goal('decision p99 (gateway → create command)', percentile(result.decision?.fromGateway ?? [], 99), GOALS.decisionP99Ms, 'ms');
  goal('warm pick-up p95', percentile(w, 95), GOALS.warmP95Ms, 'ms');
  goal('cold pick-up p95 − floor p95', percentile(c, 95) - percentile(f, 95), GOALS.coldOverFloorP95Ms, 'ms');
  goal(`resident memory of all six ${ALL_IN_ONE ? 'in one process' : ''} under load (peak PSS${ALL_IN_ONE ? '' : ' sum'})`.replace('  ', ' '), peakTotal('pss'), GOALS.residentTotalMB, 'MB');
  // Read by all-in-one.ts, which runs this bench in both modes.
  say(`memory-figures ${JSON.stringify({ mode: ALL_IN_ONE ? 'one' : 'six', idlePss: mean(idle.map(sum('pss'))), peakPss: peakTotal('pss'), peakRss: peakTotal('rss') })}`);
  say(`  (the sum of their RSS, which counts shared pages six times: ${peakTotal('rss').toFixed(0)} MB)`);

  // Issue 28's goals: our share, apart from the runner's own start and Docker's create + start.
  const sh = result.share;
  const verdict = (ok: boolean, figure: number): string => (Number.isNaN(figure) ? 'n/a' : ok ? 'PASS' : 'MISS');
  const line = (name: string, figure: string, goal: string, ok: string): void => say(`${name.padEnd(58)} ${figure.padStart(10)}  ${goal.padEnd(34)} ${ok}`);
  say('\nissue 28 goal                                              figure  goal                               result');
  const decisionP99 = percentile(result.decision?.fromReceived ?? [], 99);
  line(`decision p99 (webhook received → create command, ${RATE}/s)`, fmt(decisionP99), `< ${GOALS.decisionP99Ms} ms`, verdict(decisionP99 < GOALS.decisionP99Ms, decisionP99));
  const coldOver = percentile(sh?.cold ?? [], 95) - percentile(result.floorStarts ?? [], 95);
  line('cold: our share p95 − bare docker create+start p95', fmt(coldOver), `≤ ${SHARE_GOALS.coldShareOverCreateStartP95Ms} ms`, verdict(coldOver <= SHARE_GOALS.coldShareOverCreateStartP95Ms, coldOver));
  const warmP95 = percentile(sh?.warm ?? [], 95);
  line('warm: our share p95 (bounded by the whole pick-up)', fmt(warmP95), `< ${SHARE_GOALS.warmShareP95Ms} ms`, verdict(warmP95 < SHARE_GOALS.warmShareP95Ms, warmP95));
  const ratio = (result.throughput?.perMinute ?? Number.NaN) / (result.bareThroughput?.perMinute ?? Number.NaN);
  line(`throughput, ${CONCURRENCY} in flight: ours / bare docker run loop`, Number.isNaN(ratio) ? '—' : `${ratio.toFixed(2)}x`, `≥ ${SHARE_GOALS.throughputRatio}x`, verdict(ratio >= SHARE_GOALS.throughputRatio, ratio));
}

/**
 * Issue 28's split of pick-up. Ours: the gateway received the webhook → the executor's start call
 * for the container returned (decision, JIT registration, network, create, start). The runner's:
 * the container started → its first poll took the job. The floor of each: the bare `docker run`'s
 * create + start, and the same runner's start in that bare container.
 */
function printShares(): void {
  const sh = result.share;
  if (!sh) return;
  sh.warmFromReceived = warmTaken.flatMap((j) => (receivedAt.has(j.id) ? [j.startedAt - receivedAt.get(j.id)!] : []));
  const p = (xs: number[], q: number): string => fmt(percentile(xs, q)).padStart(7);
  const row = (name: string, xs: number[]): void => say(`  ${name.padEnd(66)} p50 ${p(xs, 50)}  p95 ${p(xs, 95)}  n=${xs.length}`);
  say('our share of pick-up, apart from the runner\'s own start (timestamps: the gateway\'s received_at, the executor\'s started_at, the simulator\'s in_progress)');
  if (result.decision) row(`decision at ${RATE}/s: webhook received → create command (p99 ${fmt(percentile(result.decision.fromReceived, 99))})`, result.decision.fromReceived);
  row('warm, ours: queued → a waiting runner took it (nothing of ours on the path)', sh.warm);
  row('warm: webhook received → a waiting runner took it (negative: before the webhook)', sh.warmFromReceived);
  row('cold, ours: webhook received → container started', sh.cold);
  row('cold floor: bare docker run create + start of the same image', result.floorStarts ?? []);
  row('cold, the runner: container started → its first poll took the job', sh.coldBoot);
  row('floor of that: the same in the bare docker run container', sh.floorBoot);
}
