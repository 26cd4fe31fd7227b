import { randomBytes } from 'node:crypto';
import { startGitHubSim, type GitHubSim, type SimInstallation } from '@runnerhub/github-sim';
import { REDIS_URL } from '@runnerhub/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  createCheckRun,
  deleteRunner,
  ForbiddenError,
  generateJitConfig,
  getRunner,
  GitHubClient,
  listDeliveries,
  listInstallationRepositories,
  listInstallations,
  listRunJobs,
  listRunnerGroups,
  listRunners,
  listRuns,
  NotFoundError,
  orgInstallation,
  RateLimitedError,
  redeliver,
  repoInstallation,
  resolveRunnerGroup,
  RunnerBusyError,
  UnavailableError,
  updateCheckRun,
  type GitHubClientOptions,
} from '../src/index.js';

// Every helper of libs/github against the GitHub simulator, with real Redis for the shared token
// cache and budget. The simulator checks every request and answer against GitHub's OpenAPI
// description; each test ends by asserting it saw no violation.

let redis: Redis;
let sim: GitHubSim;
let acme: SimInstallation;
let prefix: string;

function client(options: Partial<GitHubClientOptions> = {}): GitHubClient {
  return new GitHubClient({ baseUrl: sim.url, appId: sim.app.id, privateKey: sim.app.privateKey, redis, keyPrefix: prefix, retryBaseMs: 5, ...options });
}

/** The runner side of the simulator's protocol, to make a runner busy. */
async function connectRunner(encodedJitConfig: string): Promise<(path: string, method?: string) => Promise<Response>> {
  const files = JSON.parse(Buffer.from(encodedJitConfig, 'base64').toString()) as Record<string, string>;
  const settings = JSON.parse(Buffer.from(files['.runner']!, 'base64').toString()) as { ServerUrl: string };
  const token = (JSON.parse(Buffer.from(files['.credentials']!, 'base64').toString()) as { Data: { token: string } }).Data.token;
  const call = (path: string, method = 'GET') => fetch(`${settings.ServerUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return call;
}

beforeAll(() => {
  redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
});

afterAll(async () => {
  await redis.quit();
});

beforeEach(async () => {
  prefix = `test:github:${randomBytes(4).toString('hex')}`;
  sim = await startGitHubSim();
  acme = sim.createInstallation({ account: 'acme', repositories: ['app', 'web'] });
});

afterEach(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
});

describe('installations', () => {
  it('resolves the installation of a repo and an org, and lists installations and their repositories', async () => {
    const gh = client();
    sim.createInstallation({ account: 'solo', type: 'User', repositories: ['tool'] });
    expect((await repoInstallation(gh, 'acme', 'app')).id).toBe(acme.id);
    expect((await orgInstallation(gh, 'acme')).id).toBe(acme.id);
    await expect(orgInstallation(gh, 'nobody')).rejects.toBeInstanceOf(NotFoundError);
    const all = [];
    for await (const i of listInstallations(gh)) all.push(i.account && 'login' in i.account ? i.account.login : '');
    expect(all.sort()).toEqual(['acme', 'solo']);
    const repos = [];
    for await (const r of listInstallationRepositories(gh, acme.id)) repos.push(r.full_name);
    expect(repos.sort()).toEqual(['acme/app', 'acme/web']);
  });
});

describe('installation tokens', () => {
  it('are shared through Redis: two services mint one token', async () => {
    const [a, b] = [client(), client()];
    await Promise.all([listRunners(a, { installationId: acme.id, repository: 'acme/app' }), listRunners(b, { installationId: acme.id, repository: 'acme/app' })]);
    expect(await a.tokens.get(acme.id)).toBe(await b.tokens.get(acme.id));
  });

  it('are refreshed once after GitHub says 401, even when GitHub runs an hour ahead', async () => {
    const gh = client();
    const scope = { installationId: acme.id, repository: 'acme/app' };
    await listRunners(gh, scope);
    const before = await gh.tokens.get(acme.id);
    sim.advanceClock(61 * 60_000);
    // The cached token expired at GitHub; the JWT that mints a new one is an hour "old" there too.
    await expect(listRunners(gh, scope)).resolves.toEqual([]);
    expect(await gh.tokens.get(acme.id)).not.toBe(before);
  });
});

describe('runners', () => {
  it('registers JIT runners for a repo and an org, finds them by prefix, and deletes an idle one', async () => {
    const gh = client();
    const repoScope = { installationId: acme.id, repository: 'acme/app' };
    const orgScope = { installationId: acme.id, org: 'acme' };
    const repoRunner = await generateJitConfig(gh, repoScope, { name: 'rh-small-1', labels: ['small'] });
    await generateJitConfig(gh, orgScope, { name: 'rh-big-1', labels: ['big'], runnerGroupId: await resolveRunnerGroup(gh, orgScope, 'Default') });
    await generateJitConfig(gh, orgScope, { name: 'other-1', labels: ['big'] });
    expect(JSON.parse(Buffer.from(repoRunner.encodedJitConfig, 'base64').toString())).toHaveProperty('.runner');
    expect(repoRunner.runner.labels.map((l) => l.name)).toContain('small');
    expect((await listRunners(gh, orgScope, 'rh-')).map((r) => r.name)).toEqual(['rh-big-1']);
    expect((await getRunner(gh, repoScope, repoRunner.runner.id)).name).toBe('rh-small-1');
    await deleteRunner(gh, repoScope, repoRunner.runner.id);
    await expect(getRunner(gh, repoScope, repoRunner.runner.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await listRunnerGroups(gh, acme.id, 'acme')).map((g) => g.name)).toEqual(['Default']);
    await expect(resolveRunnerGroup(gh, orgScope, 'gpu-hosts')).rejects.toThrow(/no runner group named gpu-hosts/);
  });

  it('types a name conflict (409) and a busy runner that cannot be deleted (422)', async () => {
    const gh = client();
    const scope = { installationId: acme.id, repository: 'acme/app' };
    const { runner, encodedJitConfig } = await generateJitConfig(gh, scope, { name: 'rh-x-1', labels: ['x'] });
    await expect(generateJitConfig(gh, scope, { name: 'rh-x-1', labels: ['x'] })).rejects.toBeInstanceOf(ConflictError);
    const call = await connectRunner(encodedJitConfig);
    const session = (await (await call('/_runner/sessions', 'POST')).json()) as { sessionId: string };
    sim.createJob({ repository: 'acme/app', labels: ['x'] });
    expect((await call(`/_runner/sessions/${session.sessionId}/message?waitSeconds=5`)).status).toBe(200);
    const refused = await deleteRunner(gh, scope, runner.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RunnerBusyError);
    expect(String(refused)).toMatch(/still running a job/);
  });

  it('answers 403 with the permission a call needs', async () => {
    const limited = sim.createInstallation({ account: 'ro', repositories: ['r'], permissions: { metadata: 'read', administration: 'read' } });
    const error = await generateJitConfig(client(), { installationId: limited.id, repository: 'ro/r' }, { name: 'rh-1', labels: ['x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).acceptedPermissions).toBe('administration=write');
  });
});

describe('limits and failures', () => {
  it('stops at an exhausted hourly budget with the reset time, and tells every service through Redis', async () => {
    sim.setRateLimits({ installation: 2 });
    const gh = client();
    const scope = { installationId: acme.id, repository: 'acme/app' };
    await listRunners(gh, scope);
    await listRunners(gh, scope);
    const error = await listRunners(gh, scope).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).secondary).toBe(false);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    // Another service asks before it spends.
    const answer = await client().budget.canSpend(`installation:${acme.id}`);
    expect(answer).toMatchObject({ ok: false, remaining: 0 });
  });

  it("honours GitHub's secondary limit on JIT registrations and keeps its own budget under it", async () => {
    sim.setRateLimits({ jitPerMinute: 1 });
    const gh = client();
    const scope = { installationId: acme.id, repository: 'acme/app' };
    await generateJitConfig(gh, scope, { name: 'rh-a', labels: ['x'] });
    const secondary = await generateJitConfig(gh, scope, { name: 'rh-b', labels: ['x'] }).catch((e: unknown) => e);
    expect(secondary).toBeInstanceOf(RateLimitedError);
    expect((secondary as RateLimitedError).secondary).toBe(true);
    expect((await gh.budget.canSpend(`installation:${acme.id}`)).ok).toBe(false);

    sim.setRateLimits({ jitPerMinute: 100 });
    const budgeted = client({ jitPerMinute: 2, keyPrefix: `${prefix}:own` });
    await generateJitConfig(budgeted, scope, { name: 'rh-c', labels: ['x'] });
    await generateJitConfig(budgeted, scope, { name: 'rh-d', labels: ['x'] });
    const own = await generateJitConfig(budgeted, scope, { name: 'rh-e', labels: ['x'] }).catch((e: unknown) => e);
    expect(own).toBeInstanceOf(RateLimitedError);
    expect(sim.runners().map((r) => r.name)).not.toContain('rh-e');
  });

  it('retries 5xx with backoff and gives up with UnavailableError, and never retries a 4xx', async () => {
    const gh = client();
    const scope = { installationId: acme.id, repository: 'acme/app' };
    await listRunners(gh, scope);
    sim.setFaults({ rest: [{ method: 'GET', path: '/actions/runners$', status: 502, times: 2 }] });
    await expect(listRunners(gh, scope)).resolves.toEqual([]);
    sim.setFaults({ rest: [{ method: 'GET', path: '/actions/runners$', status: 503 }] });
    await expect(listRunners(gh, scope)).rejects.toBeInstanceOf(UnavailableError);
    sim.setFaults({ rest: [{ method: 'GET', path: '/actions/runners/\\d+$', status: 404, times: 1 }] });
    await expect(getRunner(gh, scope, 20)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('checks, deliveries and runs', () => {
  it('creates and completes a check run', async () => {
    const gh = client();
    const created = await createCheckRun(gh, acme.id, 'acme/app', { name: 'RunnerHub', head_sha: 'a'.repeat(40), status: 'in_progress', output: { title: 'Waiting', summary: 'No runner fits' } });
    const done = await updateCheckRun(gh, acme.id, 'acme/app', created.id, { conclusion: 'neutral', output: { title: 'Done', summary: 'ok' } });
    expect(done).toMatchObject({ id: created.id, status: 'completed', conclusion: 'neutral' });
  });

  it('pages the App deliveries by cursor and asks for a redelivery', async () => {
    // No webhook URL: every delivery fails, as when the gateway is down.
    for (let i = 0; i < 3; i++) sim.createJob({ repository: 'acme/app', labels: ['x'] });
    const gh = client();
    const seen = [];
    for await (const d of listDeliveries(gh, { status: 'failure', perPage: 2 })) seen.push(d);
    // Three jobs: three workflow_job and three workflow_run deliveries.
    expect(seen).toHaveLength(6);
    const job = seen.find((d) => d.event === 'workflow_job')!;
    await redeliver(gh, job.id);
    await sim.waitForDelivery((d) => d.guid === job.guid && d.redelivery);
  });

  it('lists queued runs and their jobs', async () => {
    const job = sim.createJob({ repository: 'acme/web', labels: ['gpu'] });
    const gh = client();
    const runs = await listRuns(gh, acme.id, 'acme/web', 'queued');
    expect(runs.map((r) => r.id)).toEqual([job.runId]);
    expect((await listRunJobs(gh, acme.id, 'acme/web', job.runId)).map((j) => [j.id, j.status, j.labels])).toEqual([[job.id, 'queued', ['gpu']]]);
  });
});
