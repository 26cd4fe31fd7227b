import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { SimJob } from '@runnerhub/github-sim';
import {
  startDockerEngine,
  startNatsServer,
  startPostgresServer,
  startRedisServer,
  startTcpProxy,
  waitFor,
  type DockerEngine,
  type NatsServer,
  type OwnedServer,
  type ServiceProcess,
  type TcpProxy,
} from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGES, SERVICES, startPlatform, type Platform } from '../src/index.js';

// Infrastructure faults on the whole path, each during a run of FAULT_JOBS jobs (30 with
// `make faults`, fewer in CI), with real servers the test owns: its own NATS, a Postgres cluster of
// its own behind a TCP link it can cut, a Redis of its own, and a Docker engine of its own (its own
// dockerd in a network namespace, live restore on) whose executor reaches NATS over the network.
// For each fault: jobs lost, jobs run twice, orphans after one reconcile period, and the time
// from the fault's end to the next job started. Printed as a table (and appended to FAULTS_REPORT).

const JOBS = Number(process.env.FAULT_JOBS ?? 10);
/** Jobs created per second: a steady trickle, so jobs are queued, starting and running at the fault. */
const JOB_INTERVAL_MS = 1000;
/** The fault begins once this share of the run's jobs was created. */
const FAULT_AT = 0.3;
const IDLE_TIMEOUT_S = 5;
const REAPER_S = 5;
const RECONCILE_S = 1;
/** One reconcile period for orphans: an idle runner's timeout plus a reaper period plus a pass. */
const ORPHAN_WAIT_MS = (IDLE_TIMEOUT_S + REAPER_S + RECONCILE_S + 2) * 1000;

interface RunnerView {
  name: string;
  state: string;
  jobId: string | null;
  containerId: string | null;
}
interface SchedulerJob {
  status: string;
  transitions: { transition: string }[];
}
interface FaultFigures {
  fault: string;
  jobs: number;
  lost: number;
  twice: number;
  orphans: number;
  recoveryS: number | null;
  faultS: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('whole path: infrastructure faults, measured', () => {
  let platform: Platform;
  let nats: NatsServer;
  let postgres: OwnedServer;
  let postgresLink: TcpProxy;
  let redis: OwnedServer;
  let engine: DockerEngine;
  let executor: ServiceProcess;
  const figures: FaultFigures[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    postgres = await startPostgresServer();
    postgresLink = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: postgres.port });
    redis = await startRedisServer();
    engine = await startDockerEngine({ images: [RUNNER_IMAGES.fake], liveRestore: true });
    platform = await startPlatform({
      pools: `pools:
  - name: steady
    repository: acme/app
    labels: [steady]
    image: ${RUNNER_IMAGES.fake}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 4
    idleTimeoutSeconds: ${IDLE_TIMEOUT_S}
    bootTimeoutSeconds: 60
`,
      own: { nats, postgresAdminUrl: postgresLink.rewriteUrl(postgres.url), redisUrl: redis.url },
      // The only Docker host is the engine of this test: its dockerd may be restarted.
      services: SERVICES.filter((s) => s !== 'container-executor'),
      env: {
        'webhook-gateway': { GATEWAY_REDELIVERY_INTERVAL_SECONDS: '5' },
        scheduler: { SCHEDULER_RECONCILE_SECONDS: '10' },
        'pool-manager': { POOL_RECONCILE_SECONDS: String(RECONCILE_S), POOL_REAPER_SECONDS: String(REAPER_S) },
      },
    });
    executor = await platform.startExecutor(platform.host, { EXECUTOR_MAX_CONTAINERS: '4' }, { engine });
  }, 600_000);

  afterAll(async () => {
    report(figures);
    await platform?.stop().catch((error: unknown) => console.error(error));
    await engine?.destroy();
    await redis?.destroy();
    await postgresLink?.close();
    await postgres?.destroy();
    await nats?.stop();
  }, 180_000);

  const runners = async (): Promise<RunnerView[]> => (await platform.api<{ runners: RunnerView[] }>('pool-manager', '/api/runners?pool=steady&limit=500')).body.runners;
  const liveRunners = async (): Promise<RunnerView[]> => (await platform.api<{ runners: RunnerView[] }>('pool-manager', '/api/runners?pool=steady&live=true&limit=500')).body.runners;
  const details = async () =>
    [
      `runners at GitHub: ${platform.sim.runners().map((r) => `${r.name} (${r.status}${r.busy ? ', busy' : ''})`).join(', ')}`,
      `containers: ${JSON.stringify(await platform.containers())}`,
      `live runners: ${JSON.stringify(await liveRunners().catch((e: Error) => e.message))}`,
      platform.output(),
      `--- executor on the engine\n${executor.output().slice(-3000)}`,
      `--- dockerd\n${engine.output().slice(-1500)}`,
    ].join('\n');

  /**
   * FAULT_JOBS jobs at one a second, the fault once FAULT_AT of them were created; then the figures.
   * `fault` resolves when the fault is over (the server is back, the link restored).
   */
  const measure = async (name: string, fault: () => Promise<void>): Promise<FaultFigures> => {
    const { sim } = platform;
    const jobs: SimJob[] = [];
    let faultStart = 0;
    let faultEnd = 0;
    const create = async () => {
      for (let i = 0; i < JOBS; i++) {
        jobs.push(sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'steady'], command: 'true' }));
        await sleep(JOB_INTERVAL_MS);
      }
    };
    const inject = async () => {
      await waitFor(() => jobs.length >= Math.ceil(JOBS * FAULT_AT), { timeoutMs: JOBS * JOB_INTERVAL_MS * 2, intervalMs: 50 });
      faultStart = Date.now();
      await fault();
      faultEnd = Date.now();
    };
    await Promise.all([create(), inject()]);
    // A service that died of the fault is the first thing to say.
    for (const [service, process] of Object.entries(platform.services)) {
      if (process && process.child.exitCode !== null) throw new Error(`${service} exited during "${name}" (code ${process.child.exitCode})\n${process.output().slice(-4000)}`);
    }

    // Every job completes (or the deadline says which did not: lost).
    await waitFor(() => jobs.every((j) => sim.job(j.id)?.status === 'completed'), { timeoutMs: 240_000, intervalMs: 250 }).catch(() => undefined);
    const notRun = jobs.filter((j) => sim.job(j.id)?.conclusion !== 'success');
    // The scheduler must know each job completed too: one it never hears of is lost to its users.
    const known = await waitFor(
      async () => {
        const all = await Promise.all(jobs.map(async (j) => (await platform.api<SchedulerJob>('scheduler', `/api/jobs/${j.id}`)).body));
        return all.every((j) => j?.status === 'completed') ? all : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    ).catch(async () => Promise.all(jobs.map(async (j) => (await platform.api<SchedulerJob>('scheduler', `/api/jobs/${j.id}`)).body)));
    const lost = new Set([...notRun.map((j) => j.id), ...jobs.filter((_, i) => known[i]?.status !== 'completed').map((j) => j.id)]);

    // Run twice: a job that two runners took (pool-manager rows) or that started or completed twice.
    const rows = await runners();
    const runnersPerJob = new Map<string, number>();
    for (const r of rows) if (r.jobId) runnersPerJob.set(r.jobId, (runnersPerJob.get(r.jobId) ?? 0) + 1);
    const twice = jobs.filter((j, i) => {
      const t = known[i]?.transitions ?? [];
      return (runnersPerJob.get(String(j.id)) ?? 0) > 1 || t.filter((x) => x.transition === 'started').length > 1 || t.filter((x) => x.transition === 'completed').length > 1;
    });

    // Orphans after one reconcile period: containers, registrations or live runner rows left over.
    await sleep(ORPHAN_WAIT_MS);
    const containers = await platform.containers();
    const registrations = sim.runners();
    const live = await liveRunners();
    const orphans = containers.length + registrations.length + live.length;

    // Recovery: the fault's end to the first job that started after it.
    const startedAfter = jobs
      .map((j) => sim.job(j.id)?.startedAt)
      .filter((t): t is string => !!t)
      .map((t) => Date.parse(t))
      .filter((t) => t >= faultEnd)
      .sort((a, b) => a - b);
    const result: FaultFigures = {
      fault: name,
      jobs: JOBS,
      lost: lost.size,
      twice: twice.length,
      orphans,
      recoveryS: startedAfter.length > 0 ? Math.round((startedAfter[0]! - faultEnd) / 100) / 10 : null,
      faultS: Math.round((faultEnd - faultStart) / 100) / 10,
    };
    figures.push(result);
    console.log(`fault figures: ${JSON.stringify(result)}`);
    const why = `${name}: ${JSON.stringify(result)}\nlost: ${[...lost].join(', ')}\ntwice: ${twice.map((j) => j.id).join(', ')}\n` + (orphans > 0 || lost.size > 0 || twice.length > 0 ? await details() : '');
    expect(lost.size, why).toBe(0);
    expect(twice.length, why).toBe(0);
    expect(orphans, why).toBe(0);
    expect(sim.violations()).toEqual([]);
    return result;
  };

  it('NATS killed (kill -9) and started again on its store', async () => {
    await measure('NATS kill -9, back after 3 s', async () => {
      await nats.kill();
      await sleep(3000);
      await nats.start();
    });
  }, 420_000);

  it('NATS restarted cleanly', async () => {
    await measure('NATS clean restart', () => nats.restart());
  }, 420_000);

  it('Postgres restarted', async () => {
    await measure('Postgres restart (fast shutdown)', () => postgres.restart());
  }, 420_000);

  it('Postgres refusing connections for 20 s', async () => {
    await measure('Postgres unreachable 20 s', async () => {
      await postgresLink.cut();
      await sleep(20_000);
      await postgresLink.restore();
    });
  }, 420_000);

  it('Redis restarted with an empty data set', async () => {
    await measure('Redis restart, empty', async () => {
      await redis.kill();
      await redis.start();
    });
  }, 420_000);

  it('dockerd restarted under the executor (live restore keeps running runners)', async () => {
    await measure('dockerd restart (live restore)', () => engine.restart());
  }, 420_000);

  it('dockerd killed (kill -9) under the executor', async () => {
    await measure('dockerd kill -9', async () => {
      await engine.kill();
      await engine.start();
    });
  }, 420_000);
});

/** The table for docs/operations.md: the run's date and load average beside the figures. */
function report(figures: FaultFigures[]): void {
  if (figures.length === 0) return;
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const lines = [
    `Run of ${date} UTC, ${figures[0]!.jobs} jobs per fault, load average ${load} on ${cpus} cores:`,
    '',
    '| fault | fault lasted (s) | jobs lost | jobs run twice | orphans after one reconcile period | recovery: fault end → next job started (s) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...figures.map((f) => `| ${f.fault} | ${f.faultS} | ${f.lost} | ${f.twice} | ${f.orphans} | ${f.recoveryS ?? 'no job started after it'} |`),
    '',
  ];
  console.log(lines.join('\n'));
  if (process.env.FAULTS_REPORT) appendFileSync(process.env.FAULTS_REPORT, `${lines.join('\n')}\n`);
}
