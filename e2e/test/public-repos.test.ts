import { waitFor } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGES, startPlatform, type Platform } from '../src/index.js';

// Self-hosted runners on a public repository run code from anyone who opens a pull request. By
// default no pool runs a public repository's job: the job gets a check run that says why and how
// to allow it, `why` says the same, and no runner is started. A pool opts in by name
// (allowPublicRepositories), and a pull request from a fork needs allowForkPullRequests as well.
// GitHub adds its own fence for organization runners: a runner group serves public repositories
// only when it allows them (off by default), so the guarded pool's runners could not take the job
// even if one were idle; a repository pool has no such fence (docs/security.md). Origins come from the webhook (repository.visibility) and, for a job the reconciler found
// without a webhook, from GitHub (GET /repos, GET /actions/runs/{id}).

const pool = (name: string, extra = '') => `  - name: ${name}
    org: acme
    labels: [${name}]
    image: ${RUNNER_IMAGES.fake}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 2
    idleTimeoutSeconds: 5
${extra}`;

describe('public repositories and forks', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:\n${pool('guarded')}${pool('open', '    runnerGroup: public-ok\n    allowPublicRepositories: true\n')}${pool('forks', '    runnerGroup: public-ok\n    allowPublicRepositories: true\n    allowForkPullRequests: true\n')}`,
      repositories: ['app', 'site'],
      publicRepositories: ['site'],
      // Only the missed-job reconciler (run by hand below) finds jobs whose webhook was lost.
      env: { 'webhook-gateway': { GATEWAY_REDELIVERY_INTERVAL_SECONDS: '86400' }, scheduler: { SCHEDULER_RECONCILE_SECONDS: '86400' } },
    });
    // GitHub itself keeps public repositories' jobs from organization runners unless their group
    // allows public repositories (the Default group does not): the opted-in pools use one that does.
    platform.sim.createRunnerGroup({ org: 'acme', name: 'public-ok', allowsPublicRepositories: true });
  }, 600_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const completed = (id: number, what: string) =>
    waitFor(() => platform.sim.job(id)?.status === 'completed', { what: `${what} to complete\n${platform.output()}`, timeoutMs: 90_000, intervalMs: 250 });
  const refusal = (id: number) =>
    waitFor(() => platform.sim.checkRuns().find((c) => c.externalId === `runnerhub:${id}:unmatched`), { what: `the refusal check run of job ${id}\n${platform.output()}`, timeoutMs: 30_000 });
  const why = async (id: number) => (await platform.api<{ reason: string; detail: string }>('scheduler', `/api/jobs/${id}/why`)).body;

  it("refuses a public repository's job on a pool that does not allow it, with a check run and why; a private repository's job runs there", async () => {
    const { sim } = platform;
    const publicJob = sim.createJob({ repository: 'acme/site', labels: ['self-hosted', 'guarded'] });
    const privateJob = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'guarded'] });
    const checkRun = await refusal(publicJob.id);
    expect(checkRun).toMatchObject({ repository: 'acme/site', status: 'completed', conclusion: 'action_required' });
    expect(checkRun.output.title).toBe('Not run: a public repository, which no pool allows');
    expect(checkRun.output.summary).toContain('set `allowPublicRepositories: true` in pools.yaml');
    expect(await why(publicJob.id)).toMatchObject({ reason: 'refused', detail: expect.stringContaining('the repository is public') as unknown });
    await completed(privateJob.id, 'the private repository\'s job');
    expect(sim.job(publicJob.id)?.status).toBe('queued');
    sim.cancelJob(publicJob.id);
  }, 150_000);

  it('runs the public job on a pool that allows public repositories, but not its pull request from a fork', async () => {
    const { sim } = platform;
    const pushJob = sim.createJob({ repository: 'acme/site', labels: ['self-hosted', 'open'] });
    const forkJob = sim.createJob({ repository: 'acme/site', labels: ['self-hosted', 'open'], headRepository: 'mallory/site' });
    const checkRun = await refusal(forkJob.id);
    expect(checkRun.output.title).toBe('Not run: a pull request from a fork, which no pool allows');
    expect(await why(forkJob.id)).toMatchObject({ reason: 'refused', detail: expect.stringContaining('pull request from a fork') as unknown });
    await completed(pushJob.id, 'the public repository\'s push job');
    expect(sim.job(forkJob.id)?.status).toBe('queued');
    sim.cancelJob(forkJob.id);
  }, 150_000);

  it('runs a fork\'s pull request on a pool that allows both', async () => {
    const forkJob = platform.sim.createJob({ repository: 'acme/site', labels: ['self-hosted', 'forks'], headRepository: 'mallory/site' });
    await completed(forkJob.id, "the fork's job");
    expect(platform.sim.job(forkJob.id)?.conclusion).toBe('success');
  }, 150_000);

  it('asks GitHub where a job comes from when no webhook said it: the reconciler finds a public job and refuses it, and runs a private one', async () => {
    const { sim } = platform;
    sim.setFaults({ webhooks: { dropRate: 1 } });
    const publicJob = sim.createJob({ repository: 'acme/site', labels: ['self-hosted', 'guarded'] });
    const privateJob = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'guarded'] });
    sim.setFaults({});
    const run = await platform.api<{ found: number }>('scheduler', '/api/reconciler/run', { method: 'POST' });
    expect(run, platform.output()).toMatchObject({ status: 200 });
    expect(run.body.found).toBeGreaterThanOrEqual(2);
    const checkRun = await refusal(publicJob.id);
    expect(checkRun.output.title).toBe('Not run: a public repository, which no pool allows');
    expect((await platform.api<{ foundBy: string; match: string }>('scheduler', `/api/jobs/${publicJob.id}`)).body).toMatchObject({ foundBy: 'reconciler', match: 'refused' });
    await completed(privateJob.id, "the reconciler's private job");
    sim.cancelJob(publicJob.id);
  }, 150_000);
});
