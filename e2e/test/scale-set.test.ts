import type { SimJob } from '@runnerhub/github-sim';
import { parsePrometheusText, sampleSum, waitFor } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGES, startPlatform, type Platform } from '../src/index.js';

// The whole path with no webhook at all, as on a NAS behind NAT: the simulator sends none; jobs
// reach RunnerHub only through the gateway's scale-set listener (one runner scale set per pool,
// long polls over outbound HTTP). Then the listener killed with -9 mid-run (its successor waits out
// GitHub's ghost session; no job lost, none run twice) and a lost acknowledgement (the message comes
// again; one runner). One platform for the file.

interface ListenerView {
  pool: string;
  state: string;
  scaleSetId: number | null;
  sessionConflicts: number;
  announcedCapacity: number;
  messages: number;
}
interface RunnerView {
  name: string;
  state: string;
}

const pool = (name: string, extra: string) => `  - name: ${name}
    repository: acme/app
    intake: scaleset
    image: ${RUNNER_IMAGES.fake}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
${extra}`;

describe('whole path through runner scale sets, no webhooks', () => {
  let platform: Platform;

  const listeners = async (): Promise<ListenerView[]> => (await platform.api<{ listeners: ListenerView[] }>('webhook-gateway', '/api/scale-sets')).body.listeners;
  const listener = async (name: string): Promise<ListenerView | undefined> => (await listeners()).find((l) => l.pool === name);
  const runners = async (name: string): Promise<RunnerView[]> => (await platform.api<{ runners: RunnerView[] }>('pool-manager', `/api/runners?pool=${name}&limit=500`)).body.runners;
  const allCompleted = (jobs: SimJob[], what: string, timeoutMs = 90_000) =>
    waitFor(() => jobs.every((j) => platform.sim.job(j.id)?.status === 'completed'), { what, timeoutMs, intervalMs: 250 }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nwaiting: ${jobs.filter((j) => platform.sim.job(j.id)?.status !== 'completed').map((j) => j.id).join(', ')}\n${platform.output()}`);
    });
  const gatewayCounter = async (name: string, labels: Record<string, string>) =>
    sampleSum(parsePrometheusText(await (await fetch(`${platform.services['webhook-gateway']!.url}/metrics`)).text()), name, labels);

  beforeAll(async () => {
    platform = await startPlatform({
      webhooks: false,
      // Empty polls end after 2 s (GitHub: ~50 s); a killed listener's session lingers 25 s
      // (GitHub: about a minute), longer than the listener lease (15 s), so the successor meets it.
      sim: { scaleSets: { pollWaitMs: 2_000, sessionIdleSeconds: 25 } },
      pools: `pools:
${pool('warm-ss', '    minIdle: 1\n    max: 3\n    idleTimeoutSeconds: 60')}
${pool('cold-ss', '    max: 3\n    idleTimeoutSeconds: 5')}
${pool('both-ss', '    max: 3\n    idleTimeoutSeconds: 5').replace('intake: scaleset', 'intake: both')}
`,
      // Without webhooks the missed-job reconciler is what finds a job no scale set takes.
      env: { scheduler: { SCHEDULER_RECONCILE_SECONDS: '10' }, 'webhook-gateway': { GATEWAY_SCALESET_RETRY_MAX_SECONDS: '2' } },
    });
  }, 600_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('registers a scale set per pool, runs a warm and a cold job, and explains a job no scale set takes', async () => {
    const { sim } = platform;
    await waitFor(async () => (await listeners()).filter((l) => l.state === 'polling').length === 3, { what: `every listener polling\n${platform.output()}`, timeoutMs: 60_000 });
    // Named after the pool, its name its only label; capacity announced as the pool's max.
    expect(sim.scaleSets().map((s) => ({ name: s.name, labels: s.labels, capacity: s.capacity })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'both-ss', labels: ['both-ss'], capacity: 3 },
      { name: 'cold-ss', labels: ['cold-ss'], capacity: 3 },
      { name: 'warm-ss', labels: ['warm-ss'], capacity: 3 },
    ]);
    await waitFor(async () => (await platform.containers()).some((c) => c.pool === 'warm-ss' && c.state === 'running'), { what: 'the warm runner', timeoutMs: 60_000 });
    // The warm runner waits at GitHub: polling its scale set's jobs before any job is queued.
    const waiting = await waitFor(() => sim.runners().filter((r) => r.name.startsWith('rh-warm-ss-') && r.status === 'online' && !r.busy).map((r) => r.name), { what: `the warm runner polling\n${platform.output()}`, timeoutMs: 60_000 });
    const warm = sim.createJob({ repository: 'acme/app', labels: ['warm-ss'], command: 'echo warm' });
    const cold = sim.createJob({ repository: 'acme/app', labels: ['cold-ss'], command: 'echo cold' });
    const unmatched = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'gpu'] });
    await allCompleted([warm, cold], 'the warm and the cold job to complete');
    expect(sim.job(warm.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-warm-ss-/) as unknown });
    // A warm start: the runner that was already waiting took the job, not one made for it.
    expect(waiting).toContain(sim.job(warm.id)?.runnerName);
    expect(sim.job(cold.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-cold-ss-/) as unknown });
    // Scale-set runners: registered with the scale set, so GitHub gave them its jobs.
    const scaleSetIds = new Map(sim.scaleSets().map((s) => [s.name, s.id]));
    expect(sim.job(warm.id)?.scaleSetId).toBe(scaleSetIds.get('warm-ss'));
    // The scheduler saw both through from the listener's facts alone, keyed by the REST job id.
    const completedPools = async () =>
      (await platform.api<{ jobs: { jobId: string; status: string; pool: string }[] }>('scheduler', '/api/jobs')).body.jobs
        .filter((j) => j.status === 'completed')
        .map((j) => `${j.jobId}:${j.pool}`)
        .sort();
    await waitFor(async () => (await completedPools()).length === 2, { what: 'the scheduler to see both jobs completed' });
    expect(await completedPools()).toEqual([`${warm.id}:warm-ss`, `${cold.id}:cold-ss`].sort());

    const why = await waitFor(
      async () => {
        const answer = await platform.api<{ reason: string; closestPools: { pool: string; missing: string[] }[] }>('scheduler', `/api/jobs/${unmatched.id}/why`);
        return answer.status === 200 ? answer.body : undefined;
      },
      { what: 'the why answer of the unmatched job', timeoutMs: 30_000 },
    );
    expect(why.reason).toBe('no_pool_matches');
    expect(why.closestPools.map((p) => p.pool).sort()).toEqual(['both-ss', 'cold-ss', 'warm-ss']);
    const checkRun = await waitFor(() => sim.checkRuns().find((c) => c.externalId === `runnerhub:${unmatched.id}:unmatched`), { what: `the unmatched check run\n${platform.output()}`, timeoutMs: 30_000 });
    expect(JSON.stringify(checkRun)).toContain('gpu');
    sim.cancelJob(unmatched.id);
    // Not one webhook reached anyone (the simulator logs them as failed: no URL to send to).
    expect(sim.deliveries().filter((d) => d.statusCode >= 200 && d.statusCode < 300)).toEqual([]);
    expect((await platform.api<{ deliveries: unknown[] }>('webhook-gateway', '/api/deliveries')).body.deliveries).toEqual([]);
    expect(sim.violations()).toEqual([]);
  }, 180_000);

  it('gives a trickle of jobs warm starts, as the demo counts them: the runner that took the first was asked for before it was queued', async () => {
    const { sim } = platform;
    type Requested = { name: string; state: string; requestedAt: string };
    const requested = async () => (await platform.api<{ runners: Requested[] }>('pool-manager', '/api/runners?pool=warm-ss&limit=500')).body.runners;
    // The demo's condition to start: a runner of the warm pool starting or idle.
    await waitFor(async () => (await requested()).some((r) => r.state === 'starting' || r.state === 'idle'), { what: `a warm-ss runner starting or idle\n${platform.output()}`, timeoutMs: 60_000 });
    const jobs: SimJob[] = [];
    for (let i = 0; i < 3; i++) {
      jobs.push(sim.createJob({ repository: 'acme/app', labels: ['warm-ss'], command: 'sleep 1' }));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await allCompleted(jobs, 'the trickle of warm-ss jobs');
    const at = new Map((await requested()).map((r) => [r.name, Date.parse(r.requestedAt)]));
    const warmStarts = jobs.map((j) => sim.job(j.id)!).filter((j) => j.runnerName && (at.get(j.runnerName) ?? Infinity) < Date.parse(j.createdAt));
    expect(warmStarts.map((j) => j.id)).toContain(jobs[0]!.id);
  }, 120_000);

  it('loses no job and runs none twice when the listener is killed with -9 mid-run; the successor waits out the ghost session', async () => {
    const { sim } = platform;
    const before = sim.jobs().length;
    const first = [1, 2, 3].map((i) => sim.createJob({ repository: 'acme/app', labels: [i === 1 ? 'warm-ss' : 'cold-ss'], command: 'sleep 2' }));
    await waitFor(() => first.some((j) => sim.job(j.id)?.status === 'in_progress'), { what: 'a job running', timeoutMs: 60_000, intervalMs: 100 });
    const gateway = platform.services['webhook-gateway']!;
    gateway.kill('SIGKILL');
    await gateway.exited;
    // Jobs queued while no listener runs: GitHub keeps them for the scale set (it announced room).
    const during = [1, 2].map((i) => sim.createJob({ repository: 'acme/app', labels: [i === 1 ? 'warm-ss' : 'cold-ss'], command: 'echo after' }));
    await platform.restart('webhook-gateway');
    const jobs = [...first, ...during];
    await allCompleted(jobs, 'every job after the kill', 120_000);
    for (const j of jobs) expect(sim.job(j.id)).toMatchObject({ status: 'completed', conclusion: 'success' });
    // Runners GitHub already knew took jobs while no listener ran; the facts follow once the
    // successor has a session: the scheduler sees every job through.
    await waitFor(async () => (await listeners()).filter((l) => l.state === 'polling').length === 3, { what: `every listener polling again\n${platform.output()}`, timeoutMs: 90_000 });
    const completed = async () => {
      const answers = await Promise.all(jobs.map((j) => platform.api<{ status: string }>('scheduler', `/api/jobs/${j.id}`)));
      return answers.filter((a) => a.status === 200 && a.body.status === 'completed').length;
    };
    await waitFor(async () => (await completed()) === jobs.length, { what: `the scheduler to see every job completed\n${platform.output()}`, timeoutMs: 60_000 });
    // The successor met the killed listener's session (409) and waited until GitHub expired it.
    const conflicts = (await listeners()).reduce((n, l) => n + l.sessionConflicts, 0);
    expect(conflicts).toBeGreaterThan(0);
    expect(await gatewayCounter('runnerhub_scaleset_session_conflicts_total', {})).toBeGreaterThan(0);
    // One runner per job, one job per runner, and the scheduler names the same runner GitHub does.
    const ranOn = jobs.map((j) => sim.job(j.id)?.runnerName);
    expect(new Set(ranOn).size).toBe(jobs.length);
    for (const j of jobs) expect((await platform.api<{ runnerName: string | null }>('scheduler', `/api/jobs/${j.id}`)).body.runnerName).toBe(sim.job(j.id)?.runnerName);
    expect(sim.jobs().length - before).toBe(jobs.length);
    expect(sim.violations()).toEqual([]);
  }, 180_000);

  it('hands the sessions over at once after a graceful stop (SIGTERM): the successor meets no 409', async () => {
    const { sim } = platform;
    await waitFor(async () => (await listeners()).filter((l) => l.state === 'polling').length === 3, { what: 'every listener polling', timeoutMs: 60_000 });
    const stoppedAt = Date.now();
    await platform.restart('webhook-gateway', 'SIGTERM');
    // The stopped gateway closed its sessions and released its leases.
    await waitFor(async () => (await listeners()).filter((l) => l.state === 'polling').length === 3, { what: `every listener polling after the restart\n${platform.output()}`, timeoutMs: 60_000 });
    expect((await listeners()).map((l) => l.sessionConflicts)).toEqual([0, 0, 0]);
    const job = sim.createJob({ repository: 'acme/app', labels: ['cold-ss'], command: 'echo handed over' });
    await allCompleted([job], 'a job after the graceful restart');
    expect(Date.now() - stoppedAt).toBeLessThan(60_000);
  }, 120_000);

  it('gives a job whose message acknowledgement was lost exactly one runner, when the message comes again', async () => {
    const { sim } = platform;
    await waitFor(async () => (await listener('cold-ss'))?.state === 'polling', { what: 'the cold listener polling', timeoutMs: 60_000 });
    // No cold runner left from before: any runner of the pool from now on was made for this job.
    await waitFor(async () => (await platform.api<{ runners: RunnerView[] }>('pool-manager', '/api/runners?pool=cold-ss&live=true')).body.runners.length === 0, { what: 'no cold runner left', timeoutMs: 60_000 });
    const earlier = new Set((await runners('cold-ss')).map((r) => r.name));
    const duplicatesBefore = await gatewayCounter('runnerhub_scaleset_job_messages_total', { pool: 'cold-ss', outcome: 'duplicate' });
    sim.setFaults({ scaleSets: { dropAcks: 1 } });
    const job = sim.createJob({ repository: 'acme/app', labels: ['cold-ss'], command: 'echo once' });
    await allCompleted([job], 'the job whose acknowledgement was lost');
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-cold-ss-/) as unknown });
    // The message came again and its fact was a duplicate JetStream dropped.
    expect(await gatewayCounter('runnerhub_scaleset_job_messages_total', { pool: 'cold-ss', outcome: 'duplicate' })).toBeGreaterThan(duplicatesBefore);
    // One runner made for it, though its fact arrived twice.
    const made = (await runners('cold-ss')).filter((r) => !earlier.has(r.name));
    expect(made.map((r) => r.name)).toEqual([sim.job(job.id)?.runnerName]);
    await waitFor(() => sim.scaleSets().every((s) => s.unacknowledgedMessageIds.length === 0), { what: 'every message acknowledged', timeoutMs: 30_000 });
    expect(sim.violations()).toEqual([]);
  }, 120_000);

  it('recovers from queue tokens expiring mid-poll, expired admin tokens and polls answered 503: the jobs still run', async () => {
    const { sim } = platform;
    await waitFor(async () => (await listener('cold-ss'))?.state === 'polling', { what: 'the cold listener polling', timeoutMs: 60_000 });
    const rejectedBefore = sim.actionsRequests().filter((r) => r.operationId === 'get-message' && (r.status === 401 || r.status === 503)).length;
    sim.expireScaleSetTokens({ admin: true, queue: true });
    sim.setFaults({ rest: [{ method: 'GET', path: '/scalesets/message$', status: 503, times: 6 }] });
    try {
      const job = sim.createJob({ repository: 'acme/app', labels: ['cold-ss'], command: 'echo after faults' });
      await allCompleted([job], 'the job after token expiry and 5xx polls');
      expect(sim.job(job.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-cold-ss-/) as unknown });
      await waitFor(async () => (await platform.api<{ status: string }>('scheduler', `/api/jobs/${job.id}`)).body.status === 'completed', { what: 'the scheduler to see it completed' });
      // GitHub did refuse polls (401 for the expired tokens, then 503); the listeners came back to polling.
      expect(sim.actionsRequests().filter((r) => r.operationId === 'get-message' && (r.status === 401 || r.status === 503)).length).toBeGreaterThan(rejectedBefore);
      await waitFor(async () => (await listeners()).every((l) => l.state === 'polling'), { what: 'every listener polling again', timeoutMs: 30_000 });
      expect(sim.violations()).toEqual([]);
    } finally {
      sim.setFaults({});
    }
  }, 120_000);

  it('counts every job of a pool with intake both once, with webhooks dropped and duplicated beside the scale set', async () => {
    const { sim } = platform;
    await waitFor(async () => (await platform.api<{ runners: RunnerView[] }>('pool-manager', '/api/runners?pool=both-ss&live=true')).body.runners.length === 0, { what: 'no both-ss runner left', timeoutMs: 60_000 });
    const earlier = new Set((await runners('both-ss')).map((r) => r.name));
    sim.setWebhook({ url: `${platform.services['webhook-gateway']!.url}/webhooks/github` });
    sim.setFaults({ webhooks: { dropRate: 0.3, duplicateRate: 0.3 } });
    try {
      const jobs = [1, 2, 3].map((i) => sim.createJob({ repository: 'acme/app', labels: ['both-ss'], command: `echo both ${i}` }));
      await allCompleted(jobs, 'the jobs of the both pool');
      for (const j of jobs) expect(sim.job(j.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-both-ss-/) as unknown });
      await waitFor(
        async () => (await Promise.all(jobs.map((j) => platform.api<{ status: string }>('scheduler', `/api/jobs/${j.id}`)))).every((a) => a.body.status === 'completed'),
        { what: 'the scheduler to see every job completed' },
      );
      // Webhooks did reach the gateway, and still no job was counted twice: one runner made per job.
      expect((await platform.api<{ deliveries: unknown[] }>('webhook-gateway', '/api/deliveries?event=workflow_job')).body.deliveries.length).toBeGreaterThan(0);
      const made = (await runners('both-ss')).filter((r) => !earlier.has(r.name)).map((r) => r.name).sort();
      expect(made).toEqual(jobs.map((j) => sim.job(j.id)!.runnerName!).sort());
      expect(sim.violations()).toEqual([]);
    } finally {
      sim.setFaults({});
    }
  }, 120_000);
});
