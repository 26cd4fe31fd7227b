import { createDockerClient, LABEL } from '@runnerhub/docker';
import type { SimJob } from '@runnerhub/github-sim';
import { DOCKER_PROXY_URL, startDockerEngine, waitFor, type DockerEngine } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGES, startPlatform, type Platform } from '../src/index.js';

// Capacity and failure on the whole path: GitHub handing a runner another job of its pool, two
// pools sharing a host that fits two runners, an image that cannot start, a runner container killed
// in the middle of a job, and a second Docker host that is another engine across a network. One
// platform for all; each test leaves its pools without demand.

const HOST_BUDGET = 2;
const pool = (name: string, extra: string) => `  - name: ${name}
    repository: acme/app
    labels: [${name}]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    idleTimeoutSeconds: 5
    bootTimeoutSeconds: 60
${extra}`;

interface RunnerView {
  id: string;
  name: string;
  pool: string;
  state: string;
  containerId: string | null;
  jobId: string | null;
  failure: string | null;
}
interface Why {
  reason: string;
  detail: string;
  lastError: string | null;
}

const ENDED = ['finished', 'removed', 'failed'];
const LIVE_CONTAINER = ['created', 'running', 'restarting', 'paused'];

describe('whole path: capacity and failures', () => {
  let platform: Platform;
  let engine: DockerEngine | undefined;
  const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));

  const runners = async (name: string): Promise<RunnerView[]> =>
    (await platform.api<{ runners: RunnerView[] }>('pool-manager', `/api/runners?pool=${name}&limit=500`)).body.runners;
  const why = async (jobId: number): Promise<Why | undefined> => {
    const answer = await platform.api<Why>('scheduler', `/api/jobs/${jobId}/why`);
    return answer.status === 200 ? answer.body : undefined;
  };
  const completed = (jobs: SimJob[], timeoutMs: number, what: string) =>
    waitFor(() => jobs.every((j) => platform.sim.job(j.id)?.status === 'completed'), { what: `${what}\n${platform.output()}`, timeoutMs, intervalMs: 250 });

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:
${pool('solo', '    max: 1')}
${pool('alpha', '    max: 2')}
${pool('beta', '    max: 2')}
  - name: broken
    repository: acme/app
    labels: [broken]
    image: runnerhub/no-such-image:1
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    max: 2
`,
      env: { 'container-executor': { EXECUTOR_MAX_CONTAINERS: String(HOST_BUDGET) } },
      // GitHub fails the job of a runner that stopped renewing after 60 s; the fake runner renews every 5 s.
      sim: { lostRunnerSeconds: 15 },
    });
  }, 600_000);

  afterAll(async () => {
    await platform?.stop();
    await engine?.destroy();
  }, 120_000);

  it('fails the runners of an image that cannot start, backs off, and says why on the commit', async () => {
    const { sim } = platform;
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'broken'] });
    const failed = await waitFor(async () => (await runners('broken')).find((r) => r.state === 'failed'), { what: `a failed runner of pool broken\n${platform.output()}`, timeoutMs: 60_000 });
    expect(failed.failure).toContain('no-such-image');

    // The user's commit says it, with the reason.
    const checkRun = await waitFor(() => sim.checkRuns().find((c) => c.externalId === `runnerhub:${job.id}:runner_failed`), { what: `the runner_failed check run\n${platform.output()}`, timeoutMs: 30_000 });
    expect(JSON.stringify(checkRun.output)).toContain('no-such-image');
    // And so does the scheduler.
    const answer = await waitFor(async () => {
      const w = await why(job.id);
      return w?.reason === 'provisioning_failing' ? w : undefined;
    }, { what: 'why to say provisioning_failing', timeoutMs: 30_000 });
    expect(answer.lastError ?? answer.detail).toContain('no-such-image');

    // No spinning: over 15 s the pool makes a handful of attempts, not one per reconcile pass (1 s).
    const before = (await runners('broken')).length;
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    const attempts = (await runners('broken')).length - before;
    expect(attempts).toBeLessThanOrEqual(3);
    const status = await platform.api<{ backoffUntil: string | null; lastError: string }>('pool-manager', '/api/pools/broken');
    expect(status.body.lastError).toContain('no-such-image');
    expect(sim.job(job.id)?.status).toBe('queued');
    expect(await platform.containers()).toEqual([]);

    sim.cancelJob(job.id);
    await waitFor(async () => (await runners('broken')).every((r) => ENDED.includes(r.state)), { what: 'no live runner of pool broken', timeoutMs: 30_000 });
  }, 150_000);

  it('runs two jobs on a one-runner pool, each runner taking whichever job GitHub hands it', async () => {
    const { sim } = platform;
    // The older job's webhook arrives two seconds late: the first runner is made for the younger
    // job, and GitHub hands it the older one.
    sim.setFaults({ webhooks: { delayMs: [2000, 2000] } });
    const older = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'solo'], durationMs: 1500 });
    sim.setFaults({});
    const younger = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'solo'], durationMs: 1500 });
    let most = 0;
    await waitFor(async () => {
      most = Math.max(most, (await platform.containers()).filter((c) => c.pool === 'solo' && LIVE_CONTAINER.includes(c.state)).length);
      return [older, younger].every((j) => sim.job(j.id)?.status === 'completed');
    }, { what: `both solo jobs to complete\n${platform.output()}`, timeoutMs: 120_000, intervalMs: 250 });

    const done = [sim.job(older.id)!, sim.job(younger.id)!];
    expect(done.map((j) => j.conclusion)).toEqual(['success', 'success']);
    expect(new Set(done.map((j) => j.runnerName)).size).toBe(2);
    expect(most).toBe(1);
    // Each runner ran one job, and the pool-manager recorded the job GitHub actually gave it.
    const rows = await waitFor(async () => {
      const list = await runners('solo');
      return list.length === 2 && list.every((r) => r.state === 'finished' || r.state === 'removed') && list.every((r) => r.jobId) ? list : undefined;
    }, { what: 'two finished solo runners with their jobs', timeoutMs: 30_000 });
    for (const job of done) expect(rows.find((r) => r.name === job.runnerName)?.jobId).toBe(String(job.id));
    // The scheduler knows which runner ran what.
    for (const job of done) {
      await waitFor(async () => (await platform.api<{ status: string; runnerName: string | null }>('scheduler', `/api/jobs/${job.id}`)).body.runnerName === job.runnerName, {
        what: `the scheduler to record runner ${job.runnerName ?? '?'} for job ${job.id}`,
      });
    }
    await waitFor(async () => (await platform.containers()).length === 0, { what: 'no container left', timeoutMs: 30_000 });
  }, 150_000);

  it('fails the job of a runner whose container is killed mid-job, cleans up, and serves the next job', async () => {
    const { sim } = platform;
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'solo'], durationMs: 120_000 });
    const victim = await waitFor(async () => {
      if (sim.job(job.id)?.status !== 'in_progress') return undefined;
      return (await runners('solo')).find((r) => r.state === 'busy' && r.jobId === String(job.id) && r.containerId);
    }, { what: `the job running on a solo runner\n${platform.output()}`, timeoutMs: 60_000 });
    await docker.getContainer(victim.containerId!).kill();

    await waitFor(() => sim.job(job.id)?.status === 'completed', { what: 'GitHub to fail the job of the lost runner', timeoutMs: 60_000 });
    expect(sim.job(job.id)?.conclusion).toBe('failure');
    const ended = await waitFor(async () => (await runners('solo')).find((r) => r.id === victim.id && ENDED.includes(r.state)), { what: `runner ${victim.name} to end\n${platform.output()}`, timeoutMs: 30_000 });
    expect(ended.state).not.toBe('busy');
    await waitFor(async () => !(await platform.containers()).some((c) => c.name === victim.name), { what: `container ${victim.name} gone`, timeoutMs: 30_000 });
    await waitFor(() => !sim.runners().some((r) => r.name === victim.name), { what: `GitHub registration of ${victim.name} gone`, timeoutMs: 30_000 });
    await waitFor(async () => (await platform.api<{ status: string }>('scheduler', `/api/jobs/${job.id}`)).body.status === 'completed', { what: 'the scheduler to see the job completed' });

    const next = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'solo'], durationMs: 500 });
    await completed([next], 90_000, 'the next solo job to complete');
    expect(sim.job(next.id)).toMatchObject({ conclusion: 'success' });
    expect(sim.job(next.id)?.runnerName).not.toBe(victim.name);
    await waitFor(async () => (await platform.containers()).length === 0, { what: 'no container left', timeoutMs: 30_000 });
  }, 180_000);

  it('cancels a running job and a queued one: the runner stops, everything goes, nothing is made for either', async () => {
    const { sim } = platform;
    const before = new Set((await runners('solo')).map((r) => r.id));
    const running = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'solo'], durationMs: 120_000 });
    const runner = await waitFor(async () => {
      if (sim.job(running.id)?.status !== 'in_progress') return undefined;
      return (await runners('solo')).find((r) => r.state === 'busy' && r.jobId === String(running.id));
    }, { what: `the job running on a solo runner\n${platform.output()}`, timeoutMs: 60_000 });
    // The pool's one runner is busy: the second job waits, then is cancelled before any runner took it.
    const queued = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'solo'], durationMs: 500 });
    await waitFor(async () => (await why(queued.id))?.reason === 'pool_at_maximum', { what: 'the second job waiting for the pool at its maximum', timeoutMs: 30_000 });
    sim.cancelJob(queued.id);
    sim.cancelJob(running.id);

    await waitFor(() => sim.job(running.id)?.status === 'completed', { what: 'the runner to notice the cancellation', timeoutMs: 30_000 });
    expect([sim.job(running.id)?.conclusion, sim.job(queued.id)?.conclusion]).toEqual(['cancelled', 'cancelled']);
    const scheduler = async (id: number) => (await platform.api<{ status: string; conclusion: string }>('scheduler', `/api/jobs/${id}`)).body;
    await waitFor(async () => (await scheduler(running.id)).status === 'completed' && (await scheduler(queued.id)).status === 'completed', { what: 'the scheduler to close both jobs' });
    expect((await scheduler(queued.id)).conclusion).toBe('cancelled');
    await waitFor(async () => (await platform.containers()).length === 0, { what: `no container left\n${platform.output()}`, timeoutMs: 30_000 });
    await waitFor(() => !sim.runners().some((r) => r.name.startsWith('rh-solo-')), { what: 'no solo runner registered at GitHub', timeoutMs: 30_000 });
    // The cancelled queued job got no runner of its own, neither while waiting nor once the pool had room.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const made = (await runners('solo')).filter((r) => !before.has(r.id));
    expect(made.map((r) => r.id)).toEqual([runner.id]);
    expect((await platform.containers()).length).toBe(0);
  }, 180_000);

  it('shares a host that fits two runners between two pools: every job runs, never more than two at once', async () => {
    const { sim } = platform;
    const jobs = [0, 1, 2].flatMap(() => ['alpha', 'beta'].map((p) => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', p], durationMs: 4000 })));
    let most = 0;
    const reasons = new Set<string>();
    await waitFor(async () => {
      most = Math.max(most, (await platform.containers()).filter((c) => LIVE_CONTAINER.includes(c.state)).length);
      const waiting = jobs.filter((j) => sim.job(j.id)?.status === 'queued');
      if (waiting.length > 0 && most >= HOST_BUDGET) {
        const w = await why(waiting[waiting.length - 1]!.id);
        if (w) reasons.add(w.reason);
      }
      return jobs.every((j) => sim.job(j.id)?.status === 'completed');
    }, { what: `all six jobs to complete\n${platform.output()}`, timeoutMs: 180_000, intervalMs: 250 });

    expect(jobs.map((j) => sim.job(j.id)?.conclusion)).toEqual(jobs.map(() => 'success'));
    expect(most).toBeLessThanOrEqual(HOST_BUDGET);
    // While the host was full, a waiting job was explained by the host budget or its pool's maximum.
    expect([...reasons].some((r) => r === 'host_budget_exhausted' || r === 'pool_at_maximum'), `reasons seen: ${[...reasons].join(', ')}`).toBe(true);
    expect([...reasons].filter((r) => r === 'provisioning_failing'), `reasons seen: ${[...reasons].join(', ')}`).toEqual([]);
    await waitFor(async () => (await platform.containers()).length === 0, { what: 'no container left', timeoutMs: 30_000 });
    expect(sim.violations()).toEqual([]);
  }, 240_000);

  it('places runners on a second Docker engine across a network: spread over both, host selector, drain, and its executor killed mid-job', async () => {
    const { sim } = platform;
    const second = `${platform.host}-b`;
    // Another engine (its own data root, bridge and images) in a namespace of its own; its executor
    // reaches NATS over the veth and Docker through that engine's socket proxy.
    engine = await startDockerEngine({ images: [RUNNER_IMAGES.fake] });
    const env = { EXECUTOR_LABELS: 'disk=ssd', EXECUTOR_MAX_CONTAINERS: '2' };
    let executor = await platform.startExecutor(second, env, { engine });
    const spec = (name: string, extra: Record<string, unknown>) => ({ name, repository: 'acme/app', labels: [name], image: RUNNER_IMAGES.fake, pullPolicy: 'never', cpus: 0.25, memoryMb: 128, pids: 256, max: 2, idleTimeoutSeconds: 5, ...extra });
    const healthyHosts = async () => (await platform.api<{ hosts: { host: string; healthy: boolean }[] }>('pool-manager', '/api/hosts')).body.hosts.filter((h) => h.healthy).map((h) => h.host).sort();
    try {
      await waitFor(async () => (await healthyHosts()).length === 2, { what: 'the pool-manager to see both hosts' });
      expect((await platform.api('pool-manager', '/api/pools', { method: 'POST', body: spec('wide', { placement: 'spread' }) })).status).toBe(201);
      expect((await platform.api('pool-manager', '/api/pools', { method: 'POST', body: spec('ssd', { hostSelector: { disk: 'ssd' } }) })).status).toBe(201);
      // Hosts each pool's containers ran on, sampled while the jobs run; and the engine each really was on.
      const hostsOf = { wide: new Set<string>(), ssd: new Set<string>() };
      const onEngine = new Set<string>();
      const runAll = async (pool: 'wide' | 'ssd', count = 2) => {
        const jobs = Array.from({ length: count }, () => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', pool], durationMs: 3000 }));
        await waitFor(async () => {
          for (const c of await platform.containers()) if (c.pool === pool) hostsOf[pool].add(c.host);
          for (const name of (await engine!.docker(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean)) onEngine.add(name);
          return jobs.every((j) => sim.job(j.id)?.status === 'completed');
        }, { what: `the ${pool} jobs to complete\n${platform.output()}\n--- second host\n${executor.output().slice(-3000)}`, timeoutMs: 120_000, intervalMs: 100 });
        expect(jobs.map((j) => sim.job(j.id)?.conclusion)).toEqual(jobs.map(() => 'success'));
        return jobs;
      };
      // Both hosts empty: spread puts one runner on each, and the second host's runner is on the second engine.
      const wide = await runAll('wide');
      expect([...hostsOf.wide].sort()).toEqual([platform.host, second].sort());
      const secondRunner = wide.map((j) => sim.job(j.id)!.runnerName!).find((name) => onEngine.has(name));
      expect(secondRunner, `runners: ${wide.map((j) => sim.job(j.id)?.runnerName).join(', ')}; on the second engine: ${[...onEngine].join(', ')}`).toBeDefined();
      // Only the second host carries disk=ssd: both jobs ran on the second engine.
      const ssd = await runAll('ssd');
      expect([...hostsOf.ssd]).toEqual([second]);
      for (const job of ssd) expect(onEngine.has(sim.job(job.id)!.runnerName!)).toBe(true);

      // Drained, the second host takes no runner: the spread pool's jobs all run on the first.
      expect((await platform.api('pool-manager', `/api/hosts/${second}/drain`, { method: 'POST' })).status).toBe(200);
      hostsOf.wide.clear();
      await runAll('wide');
      expect([...hostsOf.wide]).toEqual([platform.host]);
      expect((await platform.api('pool-manager', `/api/hosts/${second}/drain`, { method: 'DELETE' })).status).toBe(200);

      // The second host's executor killed (a power cut of that box's service) while its runner runs a
      // job: the runner lives on in its engine, the job completes, and the executor started again
      // finds it, removes it once done and serves the next job there.
      const long = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'ssd'], durationMs: 8000 });
      await waitFor(() => sim.job(long.id)?.status === 'in_progress', { what: `the ssd job to start\n${platform.output()}`, timeoutMs: 60_000 });
      executor.kill('SIGKILL');
      await executor.exited;
      await waitFor(() => sim.job(long.id)?.status === 'completed', { what: 'the job to complete with its executor down', timeoutMs: 60_000 });
      expect(sim.job(long.id)?.conclusion).toBe('success');
      executor = await platform.startExecutor(second, env, { engine });
      await waitFor(async () => !(await engine!.docker(['ps', '-a', '--format', '{{.Names}}'])).includes(sim.job(long.id)!.runnerName!), { what: `the finished runner removed from the second engine\n${executor.output().slice(-3000)}`, timeoutMs: 60_000 });
      hostsOf.ssd.clear();
      await runAll('ssd', 1);
      expect([...hostsOf.ssd]).toEqual([second]);
    } finally {
      for (const pool of ['wide', 'ssd']) await platform.api('pool-manager', `/api/pools/${pool}`, { method: 'DELETE' });
      await waitFor(async () => !(await platform.containers()).some((c) => c.host === second), { what: 'no container left on the second host', timeoutMs: 60_000 }).catch(() => undefined);
      executor.kill('SIGTERM');
      await executor.exited;
    }
    await waitFor(async () => (await platform.containers()).length === 0, { what: 'no container left', timeoutMs: 30_000 });
    expect((await engine.docker(['ps', '-aq', '--filter', `label=${LABEL.deployment}=${platform.deployment}`])).trim()).toBe('');
  }, 360_000);
});
