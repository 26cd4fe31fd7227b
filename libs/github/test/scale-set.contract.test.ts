import { waitFor } from '@runnerhub/testing';
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  QueueTokenExpiredError,
  RunnerBusyError,
  RunnerExistsError,
  RunnerNotFoundError,
  ScaleSetClient,
  ScaleSetNotFoundError,
  SessionConflictError,
  SessionNotFoundError,
  UnavailableError,
  type JobMessage,
  type MessageSession,
  type ScaleSetClientOptions,
} from '../src/index.js';
import { connectRunner, startGhesProxy, useSimulator, type Harness } from './harness.js';

// The scale-set client against the simulator's Actions service (tools/github-sim
// contracts/scale-set.md), real Redis under the GitHubClient; the harness fails a test on any
// contract violation the simulator saw. Empty polls wait 100 ms here instead of 50 s.

const FAST: ScaleSetClientOptions = { retry: { baseMs: 5, maxMs: 50 }, pollTimeoutMs: 5_000 };

function scaleSets(h: Harness, options: ScaleSetClientOptions = {}): ScaleSetClient {
  return new ScaleSetClient(h.client(), { installationId: h.acme.id, repository: 'acme/app' }, { ...FAST, ...options });
}

const calls = (h: Harness, operationId: string): number[] => h.sim.actionsRequests().filter((r) => r.operationId === operationId).map((r) => r.status);

/** Polls until a message with job messages comes, acknowledging each; answers the jobs seen. */
async function drain(session: MessageSession, capacity: number, until: (jobs: JobMessage[]) => boolean): Promise<JobMessage[]> {
  const jobs: JobMessage[] = [];
  let last = 0;
  for (let i = 0; i < 50 && !until(jobs); i++) {
    const message = await session.getMessage(last, capacity);
    if (!message) continue;
    last = message.messageId;
    await session.deleteMessage(message.messageId);
    jobs.push(...message.jobs);
  }
  return jobs;
}

describe('on github.com', () => {
  const h = useSimulator({ scaleSets: { pollWaitMs: 100, sessionIdleSeconds: 60 } });

  describe('the auth chain', () => {
    it('goes registration token → runner-registration → admin JWT once, and reads exp in GitHub’s time', async () => {
      h.sim.advanceClock(2 * 3_600_000);
      const client = scaleSets(h);
      const first = await client.auth.connection();
      expect(first.tenantUrl).toBe(`${h.sim.url}/_broker/rest/`);
      // GitHub's clock is two hours ahead; the token's hour is counted in ours.
      expect(first.expiresAt - Date.now()).toBeGreaterThan(3_500_000);
      expect(first.expiresAt - Date.now()).toBeLessThan(3_700_000);
      expect((await client.auth.connection()).token).toBe(first.token);
      expect(calls(h, 'runner-registration')).toEqual([200]);
    });

    it('goes through the chain again when less than a minute is left, and after the service refuses the token', async () => {
      h.sim.configureScaleSets({ adminTokenSeconds: 50 });
      const client = scaleSets(h);
      await client.runnerGroupByName('default');
      await client.runnerGroupByName('default');
      expect(calls(h, 'runner-registration')).toEqual([200, 200]);

      h.sim.configureScaleSets({ adminTokenSeconds: 3600 });
      const steady = scaleSets(h);
      await steady.runnerGroupByName('default');
      h.sim.expireScaleSetTokens({ admin: true });
      expect(await steady.runnerGroupByName('Default')).toEqual({ id: 1, name: 'Default', isDefault: true });
      expect(calls(h, 'get-runner-groups').slice(-3)).toEqual([200, 401, 200]);
      expect(calls(h, 'runner-registration')).toHaveLength(4);
    });

    it('types a runner group that does not exist as NotFoundError', async () => {
      await expect(scaleSets(h).runnerGroupByName('gpu')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('scale sets and runners', () => {
    it('finds none, creates, finds it; a taken name is a ConflictError; updates; deletes', async () => {
      const client = scaleSets(h);
      expect(await client.findScaleSet(1, 'rh-small')).toBeUndefined();
      const created = await client.createScaleSet({ name: 'rh-small', runnerGroupId: 1, labels: ['rh-small', 'ignored-on-github.com'] });
      expect(created).toMatchObject({ name: 'rh-small', runnerGroupId: 1, runnerGroupName: 'Default', labels: ['rh-small'], statistics: { totalAssignedJobs: 0 } });
      expect((await client.findScaleSet(1, 'rh-small'))?.id).toBe(created.id);
      await expect(client.createScaleSet({ name: 'rh-small', runnerGroupId: 1 })).rejects.toBeInstanceOf(ConflictError);
      expect((await client.updateScaleSet(created.id, { name: 'rh-big', runnerGroupId: 1 })).labels).toEqual(['rh-big']);
      await client.deleteScaleSet(created.id);
      const gone = await client.getScaleSet(created.id).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(ScaleSetNotFoundError);
      expect(gone).toBeInstanceOf(NotFoundError);
      expect((gone as ScaleSetNotFoundError).message).toMatch(new RegExp(`^GET /_broker/rest/_apis/runtime/runnerscalesets/${created.id}: 404 RunnerScaleSetNotFoundException: `));
    });

    it('ensures a scale set: created once in the named group, found again, two racing callers get the same one', async () => {
      const [a, b] = await Promise.all([scaleSets(h).ensureScaleSet({ name: 'rh-ensured', runnerGroup: 'Default' }), scaleSets(h).ensureScaleSet({ name: 'rh-ensured', runnerGroup: 'default' })]);
      expect(a.id).toBe(b.id);
      expect(a).toMatchObject({ name: 'rh-ensured', runnerGroupId: 1, labels: ['rh-ensured'] });
      expect((await scaleSets(h).ensureScaleSet({ name: 'rh-ensured', runnerGroup: 'Default' })).id).toBe(a.id);
      expect(h.sim.scaleSets().filter((s) => s.name === 'rh-ensured')).toHaveLength(1);
      await scaleSets(h).deleteScaleSet(a.id);
    });

    it('makes a JIT config a runner takes a job with; names, removal and a busy runner are typed', async () => {
      const client = scaleSets(h);
      const { id } = await client.createScaleSet({ name: 'rh-small', runnerGroupId: 1 });
      const session = await client.createSession(id, 'test-listener');
      expect(await session.getMessage(0, 2)).toBeUndefined();
      const { runner, encodedJitConfig } = await client.generateJitConfig(id, { name: 'rh-small-1' });
      expect(runner).toMatchObject({ name: 'rh-small-1', scaleSetId: id });
      await expect(client.generateJitConfig(id, { name: 'rh-small-1' })).rejects.toBeInstanceOf(RunnerExistsError);
      expect(await client.findRunner('rh-small-1')).toEqual(runner);
      expect(await client.findRunner('nobody')).toBeUndefined();

      const agent = await connectRunner(encodedJitConfig);
      const queued = h.sim.createJob({ repository: 'acme/app', labels: ['rh-small'], name: 'unit' });
      expect((await agent.takeJob(5))?.id).toBe(queued.id);
      await expect(client.removeRunner(runner.id)).rejects.toBeInstanceOf(RunnerBusyError);
      await agent.complete(queued.id);
      await expect(client.getRunner(runner.id)).rejects.toBeInstanceOf(RunnerNotFoundError);

      const jobs = await drain(session, 2, (seen) => seen.some((j) => j.type === 'JobCompleted'));
      expect(jobs.map((j) => j.type)).toEqual(['JobAssigned', 'JobStarted', 'JobCompleted']);
      const [assigned, started, completed] = jobs;
      const simJob = h.sim.job(queued.id)!;
      expect(assigned).toMatchObject({ runnerRequestId: 0, jobId: simJob.scaleSetJobId, repositoryName: 'app', ownerName: 'acme', jobDisplayName: 'unit', workflowRunId: simJob.runId, requestLabels: ['rh-small'] });
      expect(assigned!.queueTime?.toISOString()).toBe(simJob.createdAt);
      expect(assigned!.runnerAssignTime).toBeUndefined();
      expect(started).toMatchObject({ type: 'JobStarted', runnerId: runner.id, runnerName: 'rh-small-1' });
      expect(completed).toMatchObject({ type: 'JobCompleted', result: 'succeeded', runnerName: 'rh-small-1' });
      expect(completed?.finishTime).toBeInstanceOf(Date);
      await session.close();
    });
  });

  describe('message sessions', () => {
    it('types the second session as SessionConflictError until the killed owner’s ghost expires', async () => {
      const client = scaleSets(h);
      const { id } = await client.createScaleSet({ name: 'rh-small', runnerGroupId: 1 });
      const ghost = await client.createSession(id, 'killed-listener');
      expect(ghost.statistics).toMatchObject({ totalAssignedJobs: 0 });
      const conflict = await client.createSession(id, 'successor').catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(SessionConflictError);
      expect(conflict).toBeInstanceOf(ConflictError);
      h.sim.advanceClock(61_000);
      const successor = await client.createSession(id, 'successor');
      expect(successor.id).not.toBe(ghost.id);
      await expect(ghost.getMessage(0, 1)).rejects.toBeInstanceOf(SessionNotFoundError);
      await successor.close();
      await expect(successor.getMessage(0, 1)).rejects.toBeInstanceOf(SessionNotFoundError);
    });

    it('refreshes the session on a 401 and polls again once; a second 401 is QueueTokenExpiredError', async () => {
      const client = scaleSets(h);
      const { id } = await client.createScaleSet({ name: 'rh-small', runnerGroupId: 1 });
      const session = await client.createSession(id, 'listener');
      h.sim.expireScaleSetTokens({ queue: true });
      expect(await session.getMessage(0, 1)).toBeUndefined();
      expect(calls(h, 'get-message')).toEqual([401, 202]);
      expect(calls(h, 'refresh-session')).toEqual([200]);

      h.sim.setFaults({ rest: [{ method: 'DELETE', path: '/scalesets/message/', status: 401, times: 2 }] });
      await expect(session.deleteMessage(1)).rejects.toBeInstanceOf(QueueTokenExpiredError);
      expect(calls(h, 'refresh-session')).toEqual([200, 200]);
    });

    it('retries a poll GitHub answers 5xx, and gives up as UnavailableError when it keeps failing', async () => {
      const client = scaleSets(h);
      const { id } = await client.createScaleSet({ name: 'rh-small', runnerGroupId: 1 });
      const session = await client.createSession(id, 'listener');
      h.sim.setFaults({ rest: [{ method: 'GET', path: '/scalesets/message$', status: 503, times: 2 }] });
      expect(await session.getMessage(0, 1)).toBeUndefined();
      expect(calls(h, 'get-message')).toEqual([503, 503, 202]);
      h.sim.setFaults({ rest: [{ method: 'GET', path: '/scalesets/message$', status: 502 }] });
      const error = await session.getMessage(0, 1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).message).toMatch(/^GET \/_broker\/scalesets\/message: 502 /);
      expect((error as UnavailableError).url).not.toContain('sessionId');
    });

    it('gives up on a poll that never answers within its timeout', async () => {
      const client = scaleSets(h, { pollTimeoutMs: 300, retry: { attempts: 2, baseMs: 5, maxMs: 10 } });
      const { id } = await client.createScaleSet({ name: 'rh-small', runnerGroupId: 1 });
      const session = await client.createSession(id, 'listener');
      h.sim.setFaults({ rest: [{ method: 'GET', path: '/scalesets/message$', delayMs: 2_000 }] });
      await expect(session.getMessage(0, 1)).rejects.toBeInstanceOf(UnavailableError);
    });

    it('reads through a byte order mark and keeps job messages of unknown types aside', async () => {
      h.sim.configureScaleSets({ bom: true });
      const client = scaleSets(h);
      const { id } = await client.createScaleSet({ name: 'rh-small', runnerGroupId: 1 });
      const session = await client.createSession(id, 'listener');
      await session.getMessage(0, 1);
      h.sim.injectScaleSetMessage(id, { messageType: 'JobDeferred', reason: 'a type GitHub may add one day' });
      h.sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
      const message = await waitFor(() => session.getMessage(0, 1), { what: 'a message' });
      expect(message.unknown).toEqual([{ messageType: 'JobDeferred', raw: { messageType: 'JobDeferred', reason: 'a type GitHub may add one day' } }]);
      expect(message.jobs.map((j) => j.type)).toEqual(['JobAssigned']);
      expect(message.invalid).toEqual([]);
      expect(message.statistics?.totalAssignedJobs).toBe(1);
    });
  });
});

describe('on GitHub Enterprise Server', () => {
  const h = useSimulator({ flavour: 'ghes', scaleSets: { pollWaitMs: 100 } });

  it('goes through /api/v3, is offered jobs (JobAvailable) and acquires them', async () => {
    const proxy = await startGhesProxy(h.sim.url);
    try {
      const client = new ScaleSetClient(h.client({ baseUrl: proxy.baseUrl }), { installationId: h.acme.id, repository: 'acme/app' }, FAST);
      expect(client.auth.configUrl).toBe(`${new URL(proxy.baseUrl).origin}/acme/app`);
      const created = await client.createScaleSet({ name: 'rh-small', runnerGroupId: 1, labels: ['rh-small', 'gpu'] });
      expect(created.labels).toEqual(['rh-small', 'gpu']);
      expect(proxy.requests).toEqual(expect.arrayContaining(['POST /api/v3/actions/runner-registration', 'POST /api/v3/repos/acme/app/actions/runners/registration-token']));
      const session = await client.createSession(created.id, 'listener');
      expect(await session.getMessage(0, 2)).toBeUndefined();
      const job = h.sim.createJob({ repository: 'acme/app', labels: ['gpu'] });
      const offer = await waitFor(() => session.getMessage(0, 2), { what: 'an offer' });
      const available = offer.jobs[0]!;
      expect(available.type).toBe('JobAvailable');
      expect(available.runnerRequestId).toBeGreaterThan(0);
      expect(offer.statistics).toMatchObject({ totalAvailableJobs: 1, totalAssignedJobs: 0 });
      await session.deleteMessage(offer.messageId);

      expect(await session.acquireJobs([available.runnerRequestId, 999_999])).toEqual([available.runnerRequestId]);
      const assigned = await waitFor(() => session.getMessage(offer.messageId, 2), { what: 'the assignment' });
      expect(assigned.jobs).toEqual([expect.objectContaining({ type: 'JobAssigned', jobId: h.sim.job(job.id)!.scaleSetJobId })]);
      expect(assigned.statistics).toMatchObject({ totalAvailableJobs: 0, totalAcquiredJobs: 1, totalAssignedJobs: 1 });
    } finally {
      await proxy.close();
    }
  });
});
