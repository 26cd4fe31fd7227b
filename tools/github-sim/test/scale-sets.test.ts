import { waitFor } from '@runnerhub/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startGitHubSim, type GitHubSim, type SimInstallation, type SimOptions } from '../src/index.js';
import { ProtocolRunner, api, installationToken, startReceiver, type Receiver } from './helpers.js';
import { Session, Tenant, registerRunner, type Message } from './scale-set-driver.js';

// The scale-set side of the simulator (contracts/scale-set.md), driven over HTTP as
// actions/scaleset drives GitHub. Empty polls wait 100 ms here instead of 50 s.

let sim: GitHubSim;
let receiver: Receiver;
let acme: SimInstallation;
/** Operations a test provokes a contract violation of on purpose. */
let expectedViolations: string[] = [];

async function start(options: SimOptions = {}): Promise<void> {
  receiver = await startReceiver();
  sim = await startGitHubSim({ webhookUrl: receiver.url, ...options, scaleSets: { pollWaitMs: 100, ...options.scaleSets } });
  acme = sim.createInstallation({ account: 'acme', repositories: ['app', 'web'] });
}

afterEach(async () => {
  expect(sim.violations().filter((v) => !expectedViolations.includes(v.operationId ?? ''))).toEqual([]);
  expectedViolations = [];
  await sim.close();
  await receiver.close();
});

const repoTenant = (): Promise<Tenant> => Tenant.connect(sim, acme.id, { repository: 'acme/app' });
const typesOf = (message: Message): string[] => message.jobs.map((j) => j.messageType);

/** A repository scale set rh-small with a session that announced `capacity` in one poll. */
async function listening(capacity: number): Promise<{ tenant: Tenant; id: number; session: Session }> {
  const tenant = await repoTenant();
  const { id } = await tenant.createScaleSet('rh-small');
  const session = await tenant.openSession(id);
  expect((await session.poll(0, capacity)).status).toBe(202);
  return { tenant, id, session };
}

async function runnerFor(tenant: Tenant, scaleSetId: number, name: string): Promise<ProtocolRunner> {
  const runner = new ProtocolRunner((await tenant.jitConfig(scaleSetId, name)).encodedJITConfig);
  expect(await runner.connect()).toBe(201);
  return runner;
}

describe('the auth chain', () => {
  it('trades a registration token for the tenant URL and an admin JWT whose exp says when to refresh', async () => {
    await start();
    const tenant = await repoTenant();
    expect(tenant.url).toBe(`${sim.url}/_broker/rest/`);
    const claims = JSON.parse(Buffer.from(tenant.token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    expect(claims.exp * 1000 - sim.now()).toBeGreaterThan(3_590_000);
    expect((await tenant.call('GET', '_apis/runtime/runnergroups/?groupName=default')).body).toEqual({ count: 1, value: [{ id: 1, name: 'Default', size: 0, isDefaultGroup: true }] });

    sim.advanceClock(3_601_000);
    const expired = await tenant.call('GET', '_apis/runtime/runnergroups/?groupName=default');
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ typeName: expect.stringContaining('VssUnauthorizedException') as string, message: expect.any(String) as string });
  });

  it('refuses an unknown registration token (401) and one used for another repository (404)', async () => {
    await start();
    expect((await registerRunner(sim, 'AABF3JGZDX3P5PMEXLND6TS6FCWO6', `${sim.url}/acme/app`)).status).toBe(401);
    const token = await installationToken(sim, acme.id);
    const registration = await api<{ token: string; expires_at: string }>(sim, 'POST', '/repos/acme/app/actions/runners/registration-token', token);
    expect(registration.status).toBe(201);
    expect(Date.parse(registration.body.expires_at) - sim.now()).toBeGreaterThan(3_500_000);
    expect((await registerRunner(sim, registration.body.token, `${sim.url}/acme/web`)).status).toBe(404);
  });

  it('needs the runner write permission for a registration token, like GitHub', async () => {
    await start();
    const limited = sim.createInstallation({ account: 'ro', repositories: ['r'], permissions: { metadata: 'read', administration: 'read' } });
    const answer = await api(sim, 'POST', '/repos/ro/r/actions/runners/registration-token', await installationToken(sim, limited.id));
    expect(answer.status).toBe(403);
    expect(answer.headers.get('x-accepted-github-permissions')).toBe('administration=write');
  });
});

describe('runner groups and scale sets', () => {
  it('finds nothing, creates, finds one; names are unique per runner group, not per organization', async () => {
    await start();
    const gpu = sim.createRunnerGroup({ org: 'acme', name: 'gpu' });
    const tenant = await Tenant.connect(sim, acme.id, { org: 'acme' });
    expect((await tenant.call('GET', '_apis/runtime/runnergroups/?groupName=GPU')).body).toMatchObject({ count: 1, value: [{ id: gpu.id, name: 'gpu', isDefaultGroup: false }] });
    expect((await tenant.call('GET', '_apis/runtime/runnergroups/?groupName=none')).body).toEqual({ count: 0, value: [] });
    expect((await tenant.call('GET', '_apis/runtime/runnerscalesets?runnerGroupId=1&name=rh-small')).body).toEqual({ count: 0, value: [] });

    const created = await tenant.createScaleSet('rh-small');
    const found = await tenant.call<{ count: number; value: { id: number; statistics: unknown }[] }>('GET', '_apis/runtime/runnerscalesets?runnerGroupId=1&name=rh-small');
    expect(found.body.count).toBe(1);
    expect(found.body.value[0]).toMatchObject({ id: created.id, statistics: { totalAssignedJobs: 0 } });

    const again = await tenant.call('POST', '_apis/runtime/runnerscalesets', { name: 'RH-small', runnerGroupId: 1, labels: [{ name: 'RH-small', type: 'System' }] });
    expect(again.status).toBe(409);
    expect(again.body['typeName']).toContain('RunnerScaleSetExistsException');
    // ARC's two-site pattern: the same name in another group (actions/actions-runner-controller#4004).
    expect((await tenant.createScaleSet('rh-small', { runnerGroupId: gpu.id })).id).not.toBe(created.id);
  });

  it('updates, gets by id and deletes (204, then RunnerScaleSetNotFoundException)', async () => {
    await start();
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-a');
    const updated = await tenant.call('PATCH', `_apis/runtime/runnerscalesets/${id}`, { name: 'rh-b', RunnerSetting: {} });
    expect(updated.body).toMatchObject({ id, name: 'rh-b', labels: [{ name: 'rh-b', type: 'System' }], RunnerSetting: {} });
    expect((await tenant.call('GET', `_apis/runtime/runnerscalesets/${id}`)).body['name']).toBe('rh-b');
    expect((await tenant.call('DELETE', `_apis/runtime/runnerscalesets/${id}`)).status).toBe(204);
    const gone = await tenant.call('GET', `_apis/runtime/runnerscalesets/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body['typeName']).toContain('RunnerScaleSetNotFoundException');
  });

  it('on github.com the name is the only label; on GHES extra labels count', async () => {
    await start();
    const tenant = await repoTenant();
    const dropped = await tenant.createScaleSet('rh-x', { labels: ['rh-x', 'gpu'] });
    expect(dropped.labels.map((l) => l.name)).toEqual(['rh-x']);
    await sim.close();
    await receiver.close();

    await start({ flavour: 'ghes' });
    const ghes = await repoTenant();
    expect(ghes.url).toMatch(new RegExp(`^${sim.url}/_services/pipelines/[0-9a-f]+/$`));
    expect((await ghes.createScaleSet('rh-x', { labels: ['rh-x', 'gpu'] })).labels.map((l) => l.name)).toEqual(['rh-x', 'gpu']);
  });
});

describe('message sessions', () => {
  it('allows one session; a killed owner leaves a ghost that answers 409 until it expires', async () => {
    await start({ scaleSets: { sessionIdleSeconds: 60 } });
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const first = await tenant.openSession(id, 'host-a');
    expect(first.info).toMatchObject({ ownerName: 'host-a', runnerScaleSet: { id }, statistics: { totalAssignedJobs: 0 } });
    expect(first.info.messageQueueUrl).toMatch(/\/_broker\/scalesets\/message\?sessionId=/);

    // The owner dies mid-poll: its connection goes, no DELETE is sent.
    const killed = new AbortController();
    const poll = first.poll(0, 2, killed.signal).catch(() => undefined);
    await waitFor(() => sim.scaleSets()[0]?.session?.polling === true, { what: 'an open poll' });
    killed.abort();
    await poll;
    await waitFor(() => sim.scaleSets()[0]?.session?.polling === false, { what: 'the poll to end' });

    const conflict = await tenant.call('POST', `_apis/runtime/runnerscalesets/${id}/sessions`, { ownerName: 'host-b' });
    expect(conflict.status).toBe(409);
    expect(conflict.body['typeName']).toBe('GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionConflictException, GitHub.Actions.Runtime.WebApi');
    expect(conflict.body['message']).toMatch(/already has an active session/);
    sim.advanceClock(30_000);
    expect((await tenant.call('POST', `_apis/runtime/runnerscalesets/${id}/sessions`, { ownerName: 'host-b' })).status).toBe(409);
    sim.advanceClock(31_000);
    const successor = await tenant.openSession(id, 'host-b');
    expect(successor.info.sessionId).not.toBe(first.info.sessionId);
    // The ghost's token now opens nothing.
    expect((await first.poll(0, 2)).status).toBe(404);
  });

  it('a closed session frees the scale set at once; a refresh gives a new queue token', async () => {
    await start();
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const session = await tenant.openSession(id);
    const before = session.info.messageQueueAccessToken;
    const old = { ...session.info };
    expect((await session.refresh()).status).toBe(200);
    expect(session.info.messageQueueAccessToken).not.toBe(before);
    expect(session.info.sessionId).toBe(old.sessionId);
    // The replaced token is refused.
    const stale = new Session(tenant, id, old);
    expect((await stale.poll(0, 1)).status).toBe(401);
    expect(await session.close()).toBe(204);
    expect((await tenant.openSession(id)).info.sessionId).not.toBe(old.sessionId);
  });

  it('answers 401 once the queue token expires, even to an open poll, and a refresh recovers', async () => {
    await start({ scaleSets: { pollWaitMs: 5_000, queueTokenSeconds: 600, sessionIdleSeconds: 3600 } });
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const session = await tenant.openSession(id);
    const open = session.poll(0, 1);
    await waitFor(() => sim.scaleSets()[0]?.session?.polling === true, { what: 'an open poll' });
    sim.expireScaleSetTokens({ queue: true });
    const midPoll = await open;
    expect(midPoll.status).toBe(401);
    expect(midPoll.body).toMatchObject({ typeName: expect.stringContaining('Unauthorized') as string });
    expect(await session.ack(1)).toBe(401);

    await session.refresh();
    sim.configureScaleSets({ pollWaitMs: 100 });
    expect((await session.poll(0, 1)).status).toBe(202);
    sim.advanceClock(601_000);
    expect((await session.poll(0, 1)).status).toBe(401);
  });
});

describe('the message queue', () => {
  it('is empty (202) after the wait, then brings JobAssigned with increasing ids; an ack removes, no ack redelivers', async () => {
    await start();
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const session = await tenant.openSession(id);
    const empty = await session.poll(0, 2);
    expect(empty.status).toBe(202);
    expect(empty.text).toBe('');

    const first = sim.createJob({ repository: 'acme/app', labels: ['rh-small'], name: 'build' });
    const one = await session.next(0, 2);
    expect(typeof one.body).toBe('string');
    expect(one.messageType).toBe('RunnerScaleSetJobMessages');
    expect(one.jobs).toEqual([
      expect.objectContaining({ messageType: 'JobAssigned', runnerRequestId: 0, jobId: sim.job(first.id)!.scaleSetJobId, repositoryName: 'app', ownerName: 'acme', jobDisplayName: 'build', workflowRunId: first.runId, requestLabels: ['rh-small'] }),
    ]);
    expect(one.statistics).toMatchObject({ totalAssignedJobs: 1, totalAvailableJobs: 0, totalRunningJobs: 0 });

    // Not acknowledged: a poll from 0 (a restarted listener) gets it again; one after it does not.
    expect((await session.next(0, 2)).messageId).toBe(one.messageId);
    expect((await session.poll(one.messageId, 2)).status).toBe(202);
    expect(await session.ack(one.messageId)).toBe(204);
    expect((await session.poll(0, 2)).status).toBe(202);

    sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    const two = await session.next(one.messageId, 2);
    expect(two.messageId).toBeGreaterThan(one.messageId);
    expect(two.statistics.totalAssignedJobs).toBe(2);
    expect(sim.scaleSets()[0]).toMatchObject({ capacity: 2, unacknowledgedMessageIds: [two.messageId] });
  });

  it('starts with a UTF-8 byte order mark when asked', async () => {
    await start({ scaleSets: { bom: true } });
    const tenant = await repoTenant();
    const created = await tenant.call('POST', '_apis/runtime/runnerscalesets', { name: 'rh-bom', runnerGroupId: 1, labels: [{ name: 'rh-bom', type: 'System' }] });
    expect(created.text.charCodeAt(0)).toBe(0xfeff);
    expect(created.body['name']).toBe('rh-bom');
  });

  it('loses an ack when told: the client sees 204, the message stays and comes again', async () => {
    await start();
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const session = await tenant.openSession(id);
    sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    const message = await session.next(0, 1);
    sim.setFaults({ scaleSets: { dropAcks: 1 } });
    expect(await session.ack(message.messageId)).toBe(204);
    expect((await session.next(0, 1)).messageId).toBe(message.messageId);
    expect(await session.ack(message.messageId)).toBe(204);
    expect(sim.scaleSets()[0]!.unacknowledgedMessageIds).toEqual([]);
  });

  it('answers injected 5xx on the poll, then normally; a delayed poll outlasts a client timeout', async () => {
    await start();
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const session = await tenant.openSession(id);
    sim.setFaults({ rest: [{ method: 'GET', path: '/scalesets/message$', status: 503, times: 2 }] });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await session.poll(0, 1)).status);
    expect(statuses).toEqual([503, 503, 202]);
    sim.setFaults({ rest: [{ method: 'GET', path: '/scalesets/message$', delayMs: 2_000, times: 1 }] });
    await expect(session.poll(0, 1, AbortSignal.timeout(200))).rejects.toThrow();
    expect((await session.poll(0, 1)).status).toBe(202);
  });
});

describe('jobs through a scale set', () => {
  it('runs a job on a runner of the scale set, with JobStarted and JobCompleted, and webhooks as always', async () => {
    await start();
    const { tenant, id, session } = await listening(2);
    const runner = await runnerFor(tenant, id, 'rh-small-1');
    expect(sim.runners()[0]).toMatchObject({ name: 'rh-small-1', scaleSetId: id, labels: ['rh-small'] });

    const job = sim.createJob({ repository: 'acme/app', labels: ['rh-small'], name: 'test' });
    expect((await runner.nextJob()).job?.id).toBe(job.id);
    let last = 0;
    const seen: Message['jobs'] = [];
    const more = async (): Promise<void> => {
      const message = await session.next(last, 2);
      last = message.messageId;
      expect(await session.ack(message.messageId)).toBe(204);
      seen.push(...message.jobs);
    };
    while (!seen.some((j) => j.messageType === 'JobStarted')) await more();
    expect(seen.find((j) => j.messageType === 'JobStarted')).toMatchObject({ runnerId: sim.job(job.id)!.runnerId, runnerName: 'rh-small-1' });
    expect(await runner.complete(job.id, 'success')).toBe(200);
    while (!seen.some((j) => j.messageType === 'JobCompleted')) await more();
    expect(seen.map((j) => j.messageType)).toEqual(['JobAssigned', 'JobStarted', 'JobCompleted']);
    expect(seen[2]).toMatchObject({ result: 'succeeded', runnerName: 'rh-small-1' });
    expect(sim.job(job.id)).toMatchObject({ status: 'completed', conclusion: 'success', scaleSetId: id });

    await waitFor(() => receiver.received.filter((r) => r.headers['x-github-event'] === 'workflow_job').length === 3, { what: 'three workflow_job webhooks' });
    const actions = receiver.received.filter((r) => r.headers['x-github-event'] === 'workflow_job').map((r) => (JSON.parse(r.body) as { action: string }).action);
    expect(actions).toEqual(['queued', 'in_progress', 'completed']);
  });

  it('gives scale-set runners no default labels, and their jobs to no other runner', async () => {
    await start();
    const { tenant, id } = await listening(5);
    const restRunner = new ProtocolRunner(sim.createJitRunner({ repository: 'acme/app', name: 'rest-1', labels: ['self-hosted', 'rh-small'] }).encodedJitConfig);
    expect(await restRunner.connect()).toBe(201);
    const scaleSetRunner = await runnerFor(tenant, id, 'rh-small-1');

    const unreachable = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'rh-small'] });
    expect((await scaleSetRunner.nextJob(1)).status).toBe(204);
    expect(sim.job(unreachable.id)?.scaleSetId).toBeNull();
    // The REST runner has self-hosted and rh-small: it takes that one.
    expect((await restRunner.nextJob()).job?.id).toBe(unreachable.id);

    const byName = sim.createJob({ repository: 'acme/app', labels: ['RH-Small'] });
    expect((await scaleSetRunner.nextJob()).job?.id).toBe(byName.id);
  });

  it('never assigns a job that queued while the session announced capacity 0, even to a new session', async () => {
    await start();
    const { tenant, id, session } = await listening(0);
    const trapped = sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    expect(sim.scaleSets()[0]!.excludedJobIds).toEqual([trapped.id]);

    expect((await session.poll(0, 3)).status).toBe(202);
    const later = sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    const message = await session.next(0, 3);
    expect(message.jobs.map((j) => j.jobId)).toEqual([sim.job(later.id)!.scaleSetJobId]);
    expect(message.statistics.totalAssignedJobs).toBe(1);

    expect(await session.close()).toBe(204);
    const fresh = await tenant.openSession(id, 'host-b');
    expect((await fresh.poll(message.messageId, 3)).status).toBe(202);
    expect(sim.job(trapped.id)).toMatchObject({ status: 'queued', scaleSetId: null });
  });

  it('holds no more jobs than the announced capacity and hands over the next when one ends', async () => {
    await start();
    const { session } = await listening(1);
    const first = sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    const second = sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    expect(sim.scaleSets()[0]!.jobIds).toEqual([first.id]);
    sim.cancelJob(first.id);
    expect(sim.scaleSets()[0]!.jobIds).toEqual([second.id]);
    const message = await session.next(0, 1);
    expect(typesOf(message)).toEqual(['JobAssigned', 'JobCompleted', 'JobAssigned']);
    expect(message.jobs[1]).toMatchObject({ result: 'canceled', runnerName: '' });
  });

  it('sends JobCompleted late when told, long after the job and its webhook', async () => {
    // A session lives on while its listener polls; here the clock jumps between polls.
    await start({ scaleSets: { jobCompletedDelayMs: 360_000, sessionIdleSeconds: 3600 } });
    const { tenant, id, session } = await listening(1);
    const runner = await runnerFor(tenant, id, 'rh-small-1');
    const job = sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    expect((await runner.nextJob()).job?.id).toBe(job.id);
    await runner.complete(job.id, 'failure');
    await sim.waitForDelivery((d) => d.action === 'completed');
    const upToStart = await session.next(0, 1);
    expect(typesOf(upToStart)).toEqual(['JobAssigned', 'JobStarted']);
    await session.ack(upToStart.messageId);
    expect((await session.poll(upToStart.messageId, 1)).status).toBe(202);
    sim.advanceClock(360_000);
    const late = await session.next(upToStart.messageId, 1);
    expect(late.jobs).toEqual([expect.objectContaining({ messageType: 'JobCompleted', result: 'failed', runnerName: 'rh-small-1' })]);
  });

  it('cancels an assignment no runner takes in time and assigns the job again', async () => {
    await start({ scaleSets: { reassignAfterSeconds: 300, sessionIdleSeconds: 3600 } });
    const { session } = await listening(1);
    sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    const assigned = await session.next(0, 1);
    await session.ack(assigned.messageId);
    sim.advanceClock(301_000);
    const again = await session.next(assigned.messageId, 1);
    expect(typesOf(again)).toEqual(['JobCompleted', 'JobAssigned']);
    expect(again.jobs[0]!.result).toBe('canceled');
    expect(again.jobs[1]!.jobId).toBe(assigned.jobs[0]!.jobId);
  });

  it('on GHES offers jobs (JobAvailable) that no runner takes until the listener acquires them', async () => {
    await start({ flavour: 'ghes' });
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const session = await tenant.openSession(id);
    expect(session.info.messageQueueUrl).toContain(`/_apis/runtime/runnerscalesets/${id}/messages?sessionId=`);
    await session.poll(0, 2);
    const runner = await runnerFor(tenant, id, 'rh-small-1');
    const job = sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    const offer = await session.next(0, 2);
    const available = offer.jobs[0]!;
    expect(available).toMatchObject({ messageType: 'JobAvailable', acquireJobUrl: expect.stringContaining(`/runnerscalesets/${id}/acquirejobs`) as string });
    expect(available.runnerRequestId).toBeGreaterThan(0);
    expect(offer.statistics).toMatchObject({ totalAvailableJobs: 1, totalAssignedJobs: 0 });
    expect((await runner.nextJob(1)).status).toBe(204);

    expect((await session.acquire([available.runnerRequestId])).body).toEqual({ count: 1, value: [available.runnerRequestId] });
    expect((await runner.nextJob()).job?.id).toBe(job.id);
    const assigned = await session.next(offer.messageId, 2);
    expect(typesOf(assigned)).toEqual(['JobAssigned', 'JobStarted']);
    expect(assigned.statistics).toMatchObject({ totalAvailableJobs: 0, totalAcquiredJobs: 0, totalAssignedJobs: 1, totalRunningJobs: 1 });
  });
});

describe('runners of a scale set', () => {
  it('refuses a taken name (AgentExistsException), finds by id and name, refuses to remove a busy one', async () => {
    await start();
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const { runner } = await tenant.jitConfig(id, 'rh-small-1');
    expect(runner).toMatchObject({ name: 'rh-small-1', runnerScaleSetId: id });
    const taken = await tenant.call('POST', `_apis/runtime/runnerscalesets/${id}/generatejitconfig`, { name: 'rh-small-1', workFolder: '' });
    expect(taken.status).toBe(409);
    expect(taken.body['typeName']).toContain('AgentExistsException');
    expect((await tenant.call('GET', `_apis/distributedtask/pools/0/agents/${runner.id}`)).body).toEqual(runner);
    expect((await tenant.call('GET', '_apis/distributedtask/pools/0/agents?agentName=rh-small-1')).body).toEqual({ count: 1, value: [runner] });

    const session = await tenant.openSession(id);
    await session.poll(0, 1);
    const agent = await runnerFor(tenant, id, 'rh-small-2');
    const job = sim.createJob({ repository: 'acme/app', labels: ['rh-small'] });
    expect((await agent.nextJob()).job?.id).toBe(job.id);
    const busyId = sim.runners().find((r) => r.name === 'rh-small-2')!.id;
    const busy = await tenant.call('DELETE', `_apis/distributedtask/pools/0/agents/${busyId}`);
    expect(busy.status).toBe(400);
    expect(busy.body['typeName']).toContain('JobStillRunningException');
    expect((await tenant.call('DELETE', `_apis/runtime/runnerscalesets/${id}`)).body['typeName']).toContain('JobStillRunningException');

    expect((await tenant.call('DELETE', `_apis/distributedtask/pools/0/agents/${runner.id}`)).status).toBe(204);
    const missing = await tenant.call('GET', `_apis/distributedtask/pools/0/agents/${runner.id}`);
    expect(missing.status).toBe(404);
    expect(missing.body['typeName']).toContain('AgentNotFoundException');
  });

  it('makes JIT configs the runner protocol takes as it takes REST ones', async () => {
    await start();
    const scaleSet = sim.createScaleSet({ org: 'acme', name: 'rh-org' });
    const { encodedJitConfig, runner } = sim.createScaleSetRunner(scaleSet.id, { name: 'rh-org-1' });
    const files = JSON.parse(Buffer.from(encodedJitConfig, 'base64').toString()) as Record<string, string>;
    expect(Object.keys(files).sort()).toEqual(['.credentials', '.runner']);
    const settings = JSON.parse(Buffer.from(files['.runner']!, 'base64').toString()) as Record<string, unknown>;
    expect(settings).toMatchObject({ AgentId: runner.id, AgentName: 'rh-org-1', PoolId: 1, PoolName: 'Default', Ephemeral: true, GitHubUrl: `${sim.url}/acme` });
    expect(await new ProtocolRunner(encodedJitConfig).connect()).toBe(201);
    expect(await new ProtocolRunner(encodedJitConfig).connect()).toBe(409);
  });
});

describe('the contract check', () => {
  it('refuses a poll without X-ScaleSetMaxCapacity (400) and records the violation', async () => {
    await start();
    const tenant = await repoTenant();
    const { id } = await tenant.createScaleSet('rh-small');
    const session = await tenant.openSession(id);
    const answer = await fetch(session.info.messageQueueUrl, { headers: { authorization: `Bearer ${session.info.messageQueueAccessToken}`, accept: 'application/json; api-version=6.0-preview' } });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { typeName: string }).typeName).toContain('ArgumentException');
    expect(sim.violations()).toEqual([expect.objectContaining({ operationId: 'get-message', direction: 'request', errors: [expect.stringContaining('x-scalesetmaxcapacity') as string] })]);
    expectedViolations = ['get-message'];
  });
});
