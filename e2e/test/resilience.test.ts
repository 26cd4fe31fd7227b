import type { SimJob } from '@runnerhub/github-sim';
import { parsePrometheusText, sampleSum, waitFor } from '@runnerhub/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, startPlatform, type Platform, type ServiceName } from '../src/index.js';

// The platform when things go wrong around it: GitHub's webhooks as they really arrive (some never,
// since GitHub does not retry, some twice, out of order), and a power cut of each service in turn
// (kill -9, then a start with the same settings) during a 50-job run. What a user notices is only
// whether every job runs, once, and whether anything is left behind.

interface SchedulerJob {
  jobId: string;
  status: string;
  conclusion: string | null;
  runnerName: string | null;
  transitions: { transition: string; at: string }[];
}
interface RunnerView {
  name: string;
  state: string;
  jobId: string | null;
}

/** The sum of a counter's samples whose labels include `labels`, from the metrics service's /metrics. */
async function counter(platform: Platform, name: string, labels: Record<string, string>): Promise<number> {
  return sampleSum(parsePrometheusText(await (await fetch(`${platform.services.metrics!.url}/metrics`)).text()), name, labels);
}

const JOBS = 50;
const WARM = 1;
const sameNames = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** `wait`, with what things looked like when it gave up. */
const explained = <T>(wait: Promise<T>, details: () => string | Promise<string>): Promise<T> =>
  wait.catch(async (error: unknown) => {
    throw new Error(`${(error as Error).message}\n${await details()}`);
  });

describe('whole path: lost, duplicated and reordered webhooks; services killed mid-run', () => {
  let platform: Platform;

  const runners = async (pool: string): Promise<RunnerView[]> =>
    (await platform.api<{ runners: RunnerView[] }>('pool-manager', `/api/runners?pool=${pool}&limit=500`)).body.runners;
  const schedulerJob = async (id: number): Promise<SchedulerJob | undefined> => {
    const answer = await platform.api<SchedulerJob>('scheduler', `/api/jobs/${id}`);
    return answer.status === 200 ? answer.body : undefined;
  };
  const allCompleted = (jobs: SimJob[], timeoutMs: number, what: string) =>
    explained(
      waitFor(() => jobs.every((j) => platform.sim.job(j.id)?.status === 'completed'), { what, timeoutMs, intervalMs: 250 }),
      () => `waiting: ${jobs.filter((j) => platform.sim.job(j.id)?.status !== 'completed').map((j) => j.id).join(', ')}\n${platform.output()}`,
    );

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:
  - name: lossy
    repository: acme/app
    labels: [lossy]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 4
    idleTimeoutSeconds: 5
  - name: noisy
    repository: acme/app
    labels: [noisy]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 4
    idleTimeoutSeconds: 5
  - name: crash
    repository: acme/app
    labels: [crash]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    minIdle: ${WARM}
    max: 4
    idleTimeoutSeconds: 5
    bootTimeoutSeconds: 60
`,
      env: {
        'webhook-gateway': { GATEWAY_REDELIVERY_INTERVAL_SECONDS: '5' },
        scheduler: { SCHEDULER_RECONCILE_SECONDS: '10' },
      },
    });
  }, 600_000);

  afterEach(() => {
    platform?.sim.setFaults({});
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('runs every job when a fifth of the deliveries never arrive', async () => {
    const { sim } = platform;
    sim.setFaults({ webhooks: { dropRate: 0.2 } });
    const jobs: SimJob[] = [];
    for (let i = 0; i < 15; i++) {
      jobs.push(sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'lossy'], durationMs: 300 }));
      await sleep(200);
    }
    await allCompleted(jobs, 150_000, 'all 15 jobs to complete despite lost webhooks');
    expect(jobs.map((j) => sim.job(j.id)?.conclusion)).toEqual(jobs.map(() => 'success'));
    const dropped = sim.deliveries().filter((d) => d.status === 'timed out' && !d.redelivery);
    expect(dropped.length).toBeGreaterThan(0);

    // The scheduler ends up knowing every job as GitHub does once the reconcilers have caught up.
    sim.setFaults({});
    await waitFor(
      async () => {
        await platform.api('webhook-gateway', '/api/reconciler/run', { method: 'POST' });
        await platform.api('scheduler', '/api/reconciler/run', { method: 'POST' });
        const known = await Promise.all(jobs.map((j) => schedulerJob(j.id)));
        return known.every((j) => j?.status === 'completed');
      },
      { what: 'the scheduler to know every job completed', timeoutMs: 60_000, intervalMs: 2000 },
    );
    await waitFor(async () => !(await platform.containers()).some((c) => c.pool === 'lossy'), { what: 'no lossy container left', timeoutMs: 30_000 });
    await waitFor(() => !sim.runners().some((r) => r.name.startsWith('rh-lossy-')), { what: 'no lossy runner registered at GitHub', timeoutMs: 30_000 });
  }, 240_000);

  it('runs each job once, on one runner, when deliveries come twice and out of order', async () => {
    const { sim } = platform;
    sim.setFaults({ webhooks: { duplicateRate: 0.5, reorder: true } });
    const jobs: SimJob[] = [];
    for (let i = 0; i < 10; i++) {
      jobs.push(sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'noisy'], durationMs: 1000 }));
      await sleep(300);
    }
    await allCompleted(jobs, 150_000, 'all 10 jobs to complete despite duplicated and reordered webhooks');
    expect(jobs.map((j) => sim.job(j.id)?.conclusion)).toEqual(jobs.map(() => 'success'));
    expect(sim.deliveries().filter((d) => d.guid && sim.deliveries().filter((e) => e.guid === d.guid).length > 1).length).toBeGreaterThan(0);

    // Each job completed once in the scheduler, on the runner GitHub gave it.
    for (const job of jobs) {
      const seen = await waitFor(async () => {
        const j = await schedulerJob(job.id);
        return j?.status === 'completed' ? j : undefined;
      }, { what: `the scheduler to see job ${job.id} completed` });
      expect(seen.runnerName).toBe(sim.job(job.id)?.runnerName);
      expect(seen.transitions.filter((t) => t.transition === 'completed')).toHaveLength(1);
    }
    // Each job ran on one runner, no runner ran two, and no spare runner was made.
    await waitFor(async () => (await runners('noisy')).every((r) => ['finished', 'removed', 'failed'].includes(r.state)), { what: 'every noisy runner ended', timeoutMs: 60_000 });
    const ran = (await runners('noisy')).filter((r) => r.jobId !== null);
    expect(ran.map((r) => r.jobId).sort()).toEqual(jobs.map((j) => String(j.id)).sort());
    expect(await runners('noisy')).toHaveLength(jobs.length);
    for (const r of ran) expect(sim.job(Number(r.jobId))?.runnerName).toBe(r.name);
    // The dashboards count each job once.
    const counts = async () => ({
      queued: await counter(platform, 'runnerhub_jobs_queued_total', { pool: 'noisy' }),
      started: await counter(platform, 'runnerhub_jobs_started_total', { pool: 'noisy' }),
      completed: await counter(platform, 'runnerhub_jobs_completed_total', { pool: 'noisy' }),
    });
    await waitFor(async () => (await counts()).completed >= jobs.length, { what: 'the metrics to count the completed jobs' });
    expect(await counts()).toEqual({ queued: jobs.length, started: jobs.length, completed: jobs.length });
    await waitFor(async () => !(await platform.containers()).some((c) => c.pool === 'noisy'), { what: 'no noisy container left', timeoutMs: 30_000 });
    expect(sim.violations()).toEqual([]);
  }, 240_000);

  it('completes every job of a 50-job run with every service killed once, and leaves nothing behind', async () => {
    const { sim } = platform;
    await waitFor(async () => (await platform.containers()).some((c) => c.pool === 'crash' && c.state === 'running'), { what: 'the warm runner', timeoutMs: 60_000 });

    const jobs: SimJob[] = [];
    const createJobs = async () => {
      for (let i = 0; i < JOBS; i++) {
        jobs.push(sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'crash'], command: 'true' }));
        await sleep(1000);
      }
    };
    // One service at a time, in a random order (E2E_KILL_ORDER=a,b,… replays one), each after a
    // random pause: spread over the run.
    const order = (process.env.E2E_KILL_ORDER?.split(',') as ServiceName[] | undefined) ?? [...SERVICES].sort(() => Math.random() - 0.5);
    const kills: string[] = [];
    const killServices = async () => {
      for (const name of order) {
        await sleep(1500 + Math.random() * 4000);
        kills.push(`${name} after job ${jobs.length}`);
        await platform.restart(name);
      }
    };
    await Promise.all([createJobs(), killServices()]);

    await explained(allCompleted(jobs, 180_000, `all ${JOBS} jobs to complete`), () => `kills: ${kills.join(', ')}`);
    expect(jobs.filter((j) => sim.job(j.id)?.conclusion !== 'success').map((j) => sim.job(j.id)), `kills: ${kills.join(', ')}`).toEqual([]);

    // After the reconcilers found what the kills lost (a killed leader holds its lease up to 30 s, then
    // a cycle every 5 or 10 s), a reaper period (5 s) and an idle timeout: the warm runner, nothing else.
    await explained(
      waitFor(
        async () => {
          // The same runners in all three views: a finished runner's container can outlive its
          // registration while its replacement is registered but not yet started, so counts alone lie.
          const containers = await platform.containers();
          const live = await platform.api<{ runners: { name: string }[] }>('pool-manager', '/api/runners?pool=crash&live=true');
          const names = containers.map((c) => c.name).sort();
          return (
            containers.length === WARM &&
            containers.every((c) => c.state === 'running') &&
            sameNames(names, sim.runners().map((r) => r.name)) &&
            sameNames(names, live.body.runners.map((r) => r.name))
          );
        },
        { what: 'only the warm runner left', timeoutMs: 90_000, intervalMs: 500 },
      ),
      async () =>
        [
          `kills: ${kills.join(', ')}`,
          `runners at GitHub: ${sim.runners().map((r) => `${r.name} (${r.status}${r.busy ? ', busy' : ''})`).join(', ')}`,
          `containers: ${JSON.stringify(await platform.containers())}`,
          `pool-manager: ${JSON.stringify((await platform.api('pool-manager', '/api/runners?pool=crash&live=true')).body)} ${JSON.stringify((await platform.api('pool-manager', '/api/pools/crash')).body)}`,
          `scheduler demand: ${JSON.stringify((await platform.api('scheduler', '/api/demand')).body)}`,
          platform.output(),
        ].join('\n'),
    );
    const [warm] = await platform.containers();
    expect(sim.runners().map((r) => r.name)).toEqual([warm!.name]);
    const live = await platform.api<{ runners: { name: string; state: string }[] }>('pool-manager', '/api/runners?pool=crash&live=true');
    expect(live.body.runners.map((r) => r.name)).toEqual([warm!.name]);

    // The scheduler caught up with GitHub on every job.
    await waitFor(
      async () => {
        const answer = await platform.api<{ jobs: { jobId: string; status: string }[] }>('scheduler', '/api/jobs?pool=crash&limit=500');
        const completed = new Set(answer.body.jobs.filter((j) => j.status === 'completed').map((j) => j.jobId));
        return jobs.every((j) => completed.has(String(j.id)));
      },
      { what: 'the scheduler to know every job completed', timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(sim.violations()).toEqual([]);
  }, 420_000);
});
