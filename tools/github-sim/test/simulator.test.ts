import { verify } from '@octokit/webhooks-methods';
import { waitFor } from '@runnerhub/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGitHubSim, type GitHubSim, type SimInstallation } from '../src/index.js';
import { ProtocolRunner, api, appJwt, installationToken, signJwt, startReceiver, type Receiver } from './helpers.js';

interface Received {
  event: string;
  guid: string;
  action: string | undefined;
  job: { id: number; status: string; conclusion: string | null; runner_id: number | null; runner_name: string | null };
}

let sim: GitHubSim;
let receiver: Receiver;
let installation: SimInstallation;

/** Deliveries that arrived, workflow_run ones aside (the tests about runs read them separately). */
function received(): Received[] {
  return receiver.received.filter(({ headers }) => headers['x-github-event'] !== 'workflow_run').map(({ headers, body }) => {
    const payload = JSON.parse(body) as { action?: string; workflow_job: Received['job'] };
    return { event: String(headers['x-github-event']), guid: String(headers['x-github-delivery']), action: payload.action, job: payload.workflow_job };
  });
}

function actionsOf(jobId: number): string[] {
  return received()
    .filter((r) => r.event === 'workflow_job' && r.job.id === jobId)
    .map((r) => r.action ?? '');
}

async function startRunner(name: string, labels: string[]): Promise<ProtocolRunner> {
  const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name, labels });
  const runner = new ProtocolRunner(encodedJitConfig);
  expect(await runner.connect()).toBe(201);
  return runner;
}

beforeEach(async () => {
  receiver = await startReceiver();
  sim = await startGitHubSim({ webhookUrl: receiver.url, webhookSecret: "It's a Secret to Everybody", lostRunnerSeconds: 60 });
  installation = sim.createInstallation({ account: 'acme', repositories: ['app', 'web'] });
});

afterEach(async () => {
  // Every scenario must leave the contract clean: requests, answers and webhooks as GitHub's.
  expect(sim.violations()).toEqual([]);
  await sim.close();
  await receiver.close();
});

describe('webhooks', () => {
  it('sends queued → in_progress → completed with the runner, signed, with GitHub headers', async () => {
    const runner = await startRunner('rh-1', ['self-hosted', 'linux']);
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'Linux'], name: 'test' });
    const message = await runner.nextJob();
    expect(message.job?.id).toBe(job.id);
    expect(await runner.complete(job.id, 'success')).toBe(200);

    await waitFor(() => actionsOf(job.id).length === 3, { what: 'three workflow_job deliveries' });
    expect(actionsOf(job.id)).toEqual(['queued', 'in_progress', 'completed']);
    const inProgress = received().find((r) => r.action === 'in_progress')!;
    expect(inProgress.job).toMatchObject({ status: 'in_progress', runner_name: 'rh-1' });
    const completed = received().find((r) => r.action === 'completed')!;
    expect(completed.job).toMatchObject({ status: 'completed', conclusion: 'success', runner_name: 'rh-1' });

    for (const { headers, body } of receiver.received) {
      expect(await verify("It's a Secret to Everybody", body, String(headers['x-hub-signature-256']))).toBe(true);
      expect(headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
      expect(headers['x-github-hook-installation-target-type']).toBe('integration');
      expect(headers['x-github-hook-installation-target-id']).toBe(String(sim.app.id));
      expect(headers['x-hub-signature']).toMatch(/^sha1=[0-9a-f]{40}$/);
      expect(headers['content-type']).toBe('application/json');
    }
    const payload = JSON.parse(receiver.received[0]!.body) as Record<string, { id: number; login?: string }>;
    expect(payload['installation']!.id).toBe(installation.id);
    expect(payload['organization']!.login).toBe('acme');
  });

  it('sends workflow_run requested → in_progress → completed around the jobs of a run', async () => {
    const runner = await startRunner('run-1', ['x']);
    const first = sim.createJob({ repository: 'acme/app', labels: ['x'] });
    const second = sim.createJob({ repository: 'acme/app', labels: ['nobody'], runId: first.runId });
    expect(second.runId).toBe(first.runId);
    await runner.nextJob();
    await runner.complete(first.id, 'success');
    sim.cancelJob(second.id);
    const runEvents = () =>
      receiver.received
        .filter(({ headers }) => headers['x-github-event'] === 'workflow_run')
        .map(({ body }) => JSON.parse(body) as { action: string; workflow_run: { id: number; conclusion: string | null } });
    await waitFor(() => runEvents().length === 3, { what: 'three workflow_run deliveries' });
    expect(runEvents().map((e) => [e.action, e.workflow_run.id, e.workflow_run.conclusion])).toEqual([
      ['requested', first.runId, null],
      ['in_progress', first.runId, null],
      ['completed', first.runId, 'cancelled'],
    ]);
  });

  it('sends a ping for the App hook', async () => {
    await sim.ping();
    await waitFor(() => received().some((r) => r.event === 'ping'), { what: 'ping' });
    const body = JSON.parse(receiver.received[0]!.body) as { hook: { app_id: number; type: string } };
    expect(body.hook).toMatchObject({ app_id: sim.app.id, type: 'App' });
  });
});

describe('jobs and runners', () => {
  it('gives the oldest matching job to whichever runner asks: the runner started for B runs A', async () => {
    const jobA = sim.createJob({ repository: 'acme/app', labels: ['gpu'], name: 'A' });
    const jobB = sim.createJob({ repository: 'acme/app', labels: ['GPU'], name: 'B' });
    const runnerForB = await startRunner('for-b', ['gpu']);
    expect((await runnerForB.nextJob()).job?.id).toBe(jobA.id);
    expect(sim.job(jobB.id)?.status).toBe('queued');
    // Labels must all match (case-insensitive); repo runners only take their repo's jobs.
    const cpu = await startRunner('cpu', ['cpu']);
    expect((await cpu.nextJob(1)).status).toBe(204);
    const web = sim.createJob({ repository: 'acme/web', labels: ['gpu'] });
    expect(sim.job(web.id)?.status).toBe('queued');
  });

  it('removes an ephemeral runner after its one job, and its JIT config cannot be used again', async () => {
    const { encodedJitConfig, runner } = sim.createJitRunner({ repository: 'acme/app', name: 'once', labels: ['x'] });
    const first = new ProtocolRunner(encodedJitConfig);
    expect(await first.connect()).toBe(201);
    expect(await new ProtocolRunner(encodedJitConfig).connect()).toBe(409);
    const job = sim.createJob({ repository: 'acme/app', labels: ['x'], durationMs: 10 });
    expect((await first.nextJob()).job?.id).toBe(job.id);
    await first.complete(job.id, 'failure');
    expect(sim.job(job.id)).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(sim.runners().find((r) => r.id === runner.id)).toBeUndefined();
    const token = await installationToken(sim, installation.id);
    expect((await api(sim, 'GET', `/repos/acme/app/actions/runners/${runner.id}`, token)).status).toBe(404);
  });

  it('cancels a job queued for 24 hours and a cancelled queued job goes straight to completed', async () => {
    const stale = sim.createJob({ repository: 'acme/app', labels: ['nobody-has-this'] });
    sim.advanceClock(24 * 3_600_000 + 1000);
    expect(sim.job(stale.id)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    const cancelled = sim.createJob({ repository: 'acme/app', labels: ['nobody-has-this'] });
    sim.cancelJob(cancelled.id);
    await waitFor(() => actionsOf(cancelled.id).length === 2 && actionsOf(stale.id).length === 2, { what: 'completed deliveries' });
    expect(actionsOf(stale.id)).toEqual(['queued', 'completed']);
    expect(actionsOf(cancelled.id)).toEqual(['queued', 'completed']);
    // ARC observed runner_id 0 on such events.
    expect(received().find((r) => r.job.id === cancelled.id && r.action === 'completed')?.job.runner_id).toBe(0);
  });

  it('fails a job whose runner disappears, and asks a running job to cancel at its next renew', async () => {
    const lost = await startRunner('lost', ['x']);
    const job = sim.createJob({ repository: 'acme/app', labels: ['x'] });
    expect((await lost.nextJob()).job?.id).toBe(job.id);
    sim.advanceClock(61_000);
    expect(sim.job(job.id)).toMatchObject({ status: 'completed', conclusion: 'failure' });

    const runner = await startRunner('cancel-me', ['y']);
    const running = sim.createJob({ repository: 'acme/app', labels: ['y'] });
    expect((await runner.nextJob()).job?.id).toBe(running.id);
    expect((await runner.renew(running.id)).body).toEqual({ cancelRequested: false });
    sim.cancelJob(running.id);
    expect((await runner.renew(running.id)).body).toEqual({ cancelRequested: true });
    await runner.complete(running.id, 'cancelled');
    expect(sim.job(running.id)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
  });

  it('tells a runner whose registration was deleted, and refuses to delete a busy runner (422)', async () => {
    const token = await installationToken(sim, installation.id);
    const idle = sim.createJitRunner({ repository: 'acme/app', name: 'idle', labels: ['z'] });
    expect((await api(sim, 'DELETE', `/repos/acme/app/actions/runners/${idle.runner.id}`, token)).status).toBe(204);
    expect(await new ProtocolRunner(idle.encodedJitConfig).connect()).toBe(404);

    const busy = await startRunner('busy', ['z']);
    const job = sim.createJob({ repository: 'acme/app', labels: ['z'] });
    await busy.nextJob();
    const busyId = sim.runners().find((r) => r.name === 'busy')!.id;
    const refused = await api<{ message: string }>(sim, 'DELETE', `/repos/acme/app/actions/runners/${busyId}`, token);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe('Bad request - Runner "busy" is still running a job');
    await busy.complete(job.id, 'success');
  });
});

describe('REST as github.com answers it', () => {
  it('issues 1-hour installation tokens and answers 401 once they expired', async () => {
    const token = await installationToken(sim, installation.id);
    expect(token).toMatch(/^ghs_/);
    expect((await api(sim, 'GET', '/installation/repositories', token)).status).toBe(200);
    sim.advanceClock(60 * 60_000 + 1000);
    const expired = await api<{ message: string }>(sim, 'GET', '/installation/repositories', token);
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe('Bad credentials');
  });

  it('accepts the client id as JWT issuer and rejects a token where a JWT is needed', async () => {
    const seconds = Math.floor(sim.now() / 1000);
    const jwt = signJwt(sim.app.privateKey, { iss: sim.app.clientId, iat: seconds - 30, exp: seconds + 500 });
    expect((await api(sim, 'GET', '/app', jwt)).status).toBe(200);
    const token = await installationToken(sim, installation.id);
    expect((await api(sim, 'GET', '/app/installations', token)).status).toBe(401);
    const tooLong = signJwt(sim.app.privateKey, { iss: sim.app.id, iat: seconds, exp: seconds + 3600 });
    expect((await api<{ message: string }>(sim, 'GET', '/app', tooLong)).body.message).toBe("'Expiration time' claim ('exp') is too far in the future");
  });

  it('answers 403 with the permission a call needs', async () => {
    const readOnly = sim.createInstallation({ account: 'solo', type: 'User', repositories: ['tool'], permissions: { metadata: 'read', administration: 'read' } });
    const token = await installationToken(sim, readOnly.id);
    expect((await api(sim, 'GET', '/repos/solo/tool/actions/runners', token)).status).toBe(200);
    const denied = await api<{ message: string }>(sim, 'POST', '/repos/solo/tool/actions/runners/generate-jitconfig', token, {
      name: 'r',
      runner_group_id: 1,
      labels: ['x'],
    });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe('Resource not accessible by integration');
    expect(denied.headers.get('x-accepted-github-permissions')).toBe('administration=write');
    // Another installation's repo does not exist for this token.
    expect((await api(sim, 'GET', '/repos/acme/app/actions/runners', token)).status).toBe(404);
  });

  it('counts the primary limit per installation and enforces the JIT secondary limit', async () => {
    sim.setRateLimits({ installation: 3, jitPerMinute: 2 });
    const token = await installationToken(sim, installation.id);
    const jit = (name: string) => api<{ message: string }>(sim, 'POST', '/repos/acme/app/actions/runners/generate-jitconfig', token, { name, runner_group_id: 1, labels: ['x'] });
    const first = await jit('a');
    expect(first.status).toBe(201);
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    expect((await jit('b')).status).toBe(201);
    const secondary = await jit('c');
    expect(secondary.status).toBe(403);
    expect(secondary.body.message).toMatch(/secondary rate limit/);
    expect(Number(secondary.headers.get('retry-after'))).toBeGreaterThan(0);
    const exhausted = await api<{ message: string }>(sim, 'GET', '/installation/repositories', token);
    expect(exhausted.status).toBe(403);
    expect(exhausted.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(exhausted.body.message).toBe(`API rate limit exceeded for installation ID ${installation.id}.`);
    // GET /rate_limit is free and says when the window resets.
    const limits = await api<{ rate: { remaining: number; reset: number } }>(sim, 'GET', '/rate_limit', token);
    expect(limits.body.rate.remaining).toBe(0);
    sim.advanceClock(3_600_000);
    expect((await api(sim, 'GET', '/installation/repositories', token)).status).toBe(401);
  });

  it('gives a JIT runner exactly the labels it was sent, GitHub-named ones read-only; one without self-hosted never gets a self-hosted job', async () => {
    const token = await installationToken(sim, installation.id);
    const made = await api<{ runner: { labels: { name: string; type: string }[] } }>(sim, 'POST', '/repos/acme/app/actions/runners/generate-jitconfig', token, {
      name: 'arm',
      runner_group_id: 1,
      labels: ['self-hosted', 'Linux', 'ARM64', 'nas', 'linux'],
    });
    expect(made.status).toBe(201);
    expect(made.body.runner.labels.map((l) => [l.name, l.type])).toEqual([['self-hosted', 'read-only'], ['Linux', 'read-only'], ['ARM64', 'read-only'], ['nas', 'custom']]);
    const bare = await startRunner('bare', ['nas']);
    expect(sim.runners().find((r) => r.name === 'bare')?.labels).toEqual(['nas']);
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'nas'] });
    expect((await bare.nextJob(1)).status).toBe(204);
    expect(sim.job(job.id)?.status).toBe('queued');
    sim.cancelJob(job.id);
  });

  it('answers 409 to a second runner with the same name', async () => {
    const token = await installationToken(sim, installation.id);
    const body = { name: 'dup', runner_group_id: 1, labels: ['x'] };
    expect((await api(sim, 'POST', '/orgs/acme/actions/runners/generate-jitconfig', token, body)).status).toBe(201);
    const conflict = await api<{ message: string }>(sim, 'POST', '/orgs/acme/actions/runners/generate-jitconfig', token, body);
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe('Already exists - A runner with the name dup already exists.');
  });

  it('lists queued runs and their jobs for reconciliation', async () => {
    const job = sim.createJob({ repository: 'acme/app', labels: ['nobody'], workflowName: 'Nightly' });
    const token = await installationToken(sim, installation.id);
    const runs = await api<{ total_count: number; workflow_runs: { id: number; status: string; name: string }[] }>(
      sim,
      'GET',
      '/repos/acme/app/actions/runs?status=queued',
      token,
    );
    expect(runs.body.workflow_runs.map((r) => [r.id, r.status, r.name])).toEqual([[job.runId, 'queued', 'Nightly']]);
    const jobs = await api<{ jobs: { id: number; labels: string[]; status: string }[] }>(sim, 'GET', `/repos/acme/app/actions/runs/${job.runId}/jobs`, token);
    expect(jobs.body.jobs).toEqual([expect.objectContaining({ id: job.id, labels: ['nobody'], status: 'queued' })]);
  });
});

describe('faults and the deliveries API', () => {
  it('drops deliveries as failed; a redelivery through the API keeps the GUID and arrives', async () => {
    sim.setFaults({ webhooks: { dropRate: 1 } });
    const job = sim.createJob({ repository: 'acme/app', labels: ['x'] });
    const failed = await sim.waitForDelivery((d) => d.event === 'workflow_job');
    expect(failed).toMatchObject({ status: 'timed out', statusCode: 0 });
    expect(receiver.received).toHaveLength(0);
    await sim.waitForDelivery((d) => d.event === 'workflow_run');

    sim.setFaults({});
    const jwt = await appJwt(sim);
    const listed = await api<{ id: number; guid: string; event: string }[]>(sim, 'GET', '/app/hook/deliveries?status=failure', jwt);
    expect(listed.body.map((d) => d.event).sort()).toEqual(['workflow_job', 'workflow_run']);
    const lostJobDelivery = listed.body.find((d) => d.event === 'workflow_job')!;
    expect(lostJobDelivery.guid).toBe(failed.guid);
    expect((await api(sim, 'POST', `/app/hook/deliveries/${lostJobDelivery.id}/attempts`, jwt)).status).toBe(202);
    await waitFor(() => received().length === 1, { what: 'the redelivery' });
    expect(received()[0]).toMatchObject({ guid: failed.guid, action: 'queued' });
    expect(received()[0]!.job.id).toBe(job.id);
    const after = await api<{ guid: string; redelivery: boolean; status: string }[]>(sim, 'GET', '/app/hook/deliveries', jwt);
    expect(after.body[0]).toMatchObject({ guid: failed.guid, redelivery: true, status: 'OK' });
  });

  it('duplicates with the same GUID, and delays and reorders without losing any', async () => {
    sim.setFaults({ webhooks: { duplicateRate: 1 } });
    sim.createJob({ repository: 'acme/app', labels: ['x'] });
    await waitFor(() => received().length === 2, { what: 'two copies' });
    expect(received()[0]!.guid).toBe(received()[1]!.guid);

    sim.setFaults({ webhooks: { delayMs: [0, 300], reorder: true } });
    const jobs = Array.from({ length: 20 }, () => sim.createJob({ repository: 'acme/app', labels: ['x'] }));
    await waitFor(() => received().length === 22, { what: '20 delayed deliveries' });
    expect(new Set(received().slice(2).map((r) => r.job.id))).toEqual(new Set(jobs.map((j) => j.id)));
  });

  it('records non-2xx answers as failures with GitHub\'s status text', async () => {
    receiver.status = 503;
    sim.createJob({ repository: 'acme/app', labels: ['x'] });
    const delivery = await sim.waitForDelivery((d) => d.event === 'workflow_job');
    expect(delivery).toMatchObject({ status: 'Invalid HTTP Response: 503', statusCode: 503 });
  });

  it('pages deliveries by cursor, newest first', async () => {
    for (let i = 0; i < 5; i++) sim.createJob({ repository: 'acme/app', labels: ['x'] });
    await waitFor(() => receiver.received.length === 10, { what: 'five job and five run deliveries' });
    const jwt = await appJwt(sim);
    const seen: number[] = [];
    let path: string | undefined = '/app/hook/deliveries?per_page=2';
    while (path) {
      const page: Awaited<ReturnType<typeof api<{ id: number }[]>>> = await api<{ id: number }[]>(sim, 'GET', path, jwt);
      seen.push(...page.body.map((d) => d.id));
      const next = /<([^>]+)>;\s*rel="next"/.exec(page.headers.get('link') ?? '')?.[1];
      path = next ? next.slice(sim.url.length) : undefined;
    }
    expect(seen).toHaveLength(10);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
  });

  it('answers injected 5xx a set number of times, then normally', async () => {
    sim.setFaults({ rest: [{ method: 'GET', path: '/installation/repositories', status: 502, times: 2 }] });
    const token = await installationToken(sim, installation.id);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await api(sim, 'GET', '/installation/repositories', token)).status);
    expect(statuses).toEqual([502, 502, 200]);
  });
});
