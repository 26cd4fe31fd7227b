import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@runnerhub/testing';
import { RUNNER_IMAGES, startPlatform, type Platform } from '../src/index.js';

// The job path through every service: a webhook from the simulator, the scheduler's match, the
// pool-manager's JIT runner, the executor's container, the job done at "GitHub", nothing left.
// Once with our fake runner image and once with the stand-in for ghcr.io/actions/actions-runner
// (its run.sh and run-helper.sh, user runner, sudo), each on a platform of its own.

describe.each([
  ['the fake runner image', RUNNER_IMAGES.fake],
  ['the actions-runner stand-in', RUNNER_IMAGES.actionsRunner],
])('whole path on %s: jobs from webhook to removed container', (_image, image) => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:
  - name: warm
    repository: acme/app
    labels: [warm]
    image: ${image}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    minIdle: 1
    max: 2
    idleTimeoutSeconds: 30
  - name: cold
    repository: acme/app
    labels: [cold]
    image: ${image}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 2
    idleTimeoutSeconds: 5
  - name: shared
    org: acme
    labels: [shared]
    image: ${image}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 2
    idleTimeoutSeconds: 5
`,
      repositories: ['app', 'lib'],
    });
  }, 600_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('runs a job on a warm runner and one on a runner made for it, and leaves nothing behind', async () => {
    const { sim } = platform;
    await waitFor(async () => (await platform.containers()).some((c) => c.pool === 'warm' && c.state === 'running'), { what: 'the warm runner', timeoutMs: 60_000 });
    const warm = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'warm'], command: 'echo warm' });
    const cold = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'linux', 'cold'], command: 'echo cold' });
    await waitFor(() => [warm, cold].every((j) => sim.job(j.id)?.status === 'completed'), { what: `both jobs to complete\n${platform.output()}`, timeoutMs: 120_000 });
    expect(sim.job(warm.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-warm-/) as unknown });
    expect(sim.job(cold.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-cold-/) as unknown });
    // The scheduler saw both through, and the warm pool is warm again.
    const completedPools = async () => (await platform.api<{ jobs: { status: string; pool: string }[] }>('scheduler', '/api/jobs')).body.jobs.filter((j) => j.status === 'completed').map((j) => j.pool).sort();
    await waitFor(async () => (await completedPools()).length === 2, { what: 'the scheduler to see both jobs completed' });
    expect(await completedPools()).toEqual(['cold', 'warm']);
    await waitFor(async () => (await platform.containers()).filter((c) => c.pool === 'cold').length === 0, { what: 'the cold runner gone', timeoutMs: 60_000 });
    await waitFor(async () => (await platform.containers()).filter((c) => c.pool === 'warm' && c.state === 'running').length === 1, { what: 'one warm runner again', timeoutMs: 60_000 });
    // The removed runners took their anonymous volumes (the JIT file's) with them.
    await waitFor(async () => (await platform.leftovers()).volumes.length === 0, { what: 'no runner volume left', timeoutMs: 10_000 });
    expect(sim.violations()).toEqual([]);
  }, 240_000);

  it('runs jobs of two repositories on runners of an organization pool, registered with the organization', async () => {
    const { sim } = platform;
    const jobs = ['acme/app', 'acme/lib'].map((repository) => sim.createJob({ repository, labels: ['self-hosted', 'shared'], command: 'echo org' }));
    const orgRunners = new Set<string>();
    await waitFor(() => {
      for (const r of sim.runners()) if (r.name.startsWith('rh-shared-')) orgRunners.add(r.scope);
      return jobs.every((j) => sim.job(j.id)?.status === 'completed');
    }, { what: `both jobs to complete\n${platform.output()}`, timeoutMs: 120_000, intervalMs: 50 });
    for (const j of jobs) expect(sim.job(j.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-shared-/) as unknown });
    // Registered at the organization, not at either repository.
    expect([...orgRunners]).toEqual(['org:acme']);
    await waitFor(async () => (await platform.containers()).filter((c) => c.pool === 'shared').length === 0, { what: 'the shared runners gone', timeoutMs: 60_000 });
    await waitFor(() => !sim.runners().some((r) => r.name.startsWith('rh-shared-')), { what: 'their registrations gone', timeoutMs: 30_000 });
    expect(sim.violations()).toEqual([]);
  }, 180_000);

  it('explains a job no pool serves, in the admin API and as a check run on the commit', async () => {
    const { sim } = platform;
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'gpu', 'warm'] });
    const why = await waitFor(async () => {
      const answer = await platform.api<{ reason: string; closestPools: { pool: string; missing: string[] }[] }>('scheduler', `/api/jobs/${job.id}/why`);
      return answer.status === 200 ? answer.body : undefined;
    }, { what: 'the why answer' });
    expect(why.reason).toBe('no_pool_matches');
    expect(why.closestPools[0]).toEqual({ pool: 'warm', missing: ['gpu'] });
    const checkRun = await waitFor(() => sim.checkRuns().find((c) => c.externalId === `runnerhub:${job.id}:unmatched`), { what: `the check run\n${platform.output()}`, timeoutMs: 30_000 });
    expect(JSON.stringify(checkRun)).toContain('gpu');
    sim.cancelJob(job.id);
  }, 60_000);
});
