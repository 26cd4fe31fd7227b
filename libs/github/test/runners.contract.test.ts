import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  deleteRunner,
  ForbiddenError,
  generateJitConfig,
  getRunner,
  listRunnerGroups,
  listRunners,
  NotFoundError,
  resolveRunnerGroup,
  RunnerBusyError,
  ValidationError,
} from '../src/index.js';
import { connectRunner, useSimulator } from './harness.js';

// JIT registration, runner lookup and removal, runner groups, against the simulator.

const h = useSimulator();

describe('generateJitConfig', () => {
  it('registers repository and organization runners and returns the config actions/runner reads', async () => {
    const gh = h.client();
    const repo = await generateJitConfig(gh, { installationId: h.acme.id, repository: 'acme/app' }, { name: 'rh-small-1', labels: ['small'], workFolder: '_w' });
    const org = await generateJitConfig(gh, { installationId: h.acme.id, org: 'acme' }, { name: 'rh-big-1', labels: ['big'], runnerGroupId: 1 });
    const files = JSON.parse(Buffer.from(repo.encodedJitConfig, 'base64').toString()) as Record<string, string>;
    const settings = JSON.parse(Buffer.from(files['.runner']!, 'base64').toString()) as { AgentName: string; WorkFolder: string; Ephemeral: boolean };
    expect(settings).toMatchObject({ AgentName: 'rh-small-1', WorkFolder: '_w', Ephemeral: true });
    expect(repo.runner.labels.map((l) => l.name)).toContain('small');
    expect(org.runner).toMatchObject({ name: 'rh-big-1', runner_group_id: 1 });
    expect(h.sim.runners().map((r) => [r.name, r.scope])).toEqual([
      ['rh-small-1', 'repo:acme/app'],
      ['rh-big-1', 'org:acme'],
    ]);
  });

  it('types a taken name (409) as ConflictError with GitHub’s words', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    await generateJitConfig(gh, scope, { name: 'rh-x-1', labels: ['x'] });
    const error = await generateJitConfig(gh, scope, { name: 'rh-x-1', labels: ['x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).message).toMatch(/^POST \/repos\/acme\/app\/actions\/runners\/generate-jitconfig: 409 Already exists - A runner with the name rh-x-1 already exists/);
  });

  it('says which permission the App lacks (403), without the token', async () => {
    const limited = h.sim.createInstallation({ account: 'ro', repositories: ['r'], permissions: { metadata: 'read', administration: 'read' } });
    const gh = h.client();
    const error = await generateJitConfig(gh, { installationId: limited.id, repository: 'ro/r' }, { name: 'rh-1', labels: ['x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    const forbidden = error as ForbiddenError;
    expect(forbidden).toMatchObject({ status: 403, method: 'POST', url: `${h.sim.url}/repos/ro/r/actions/runners/generate-jitconfig`, acceptedPermissions: 'administration=write' });
    expect(forbidden.message).toMatch(/Resource not accessible by integration \(the App needs administration=write\)/);
    expect(forbidden.message).not.toContain(await gh.tokens.get(limited.id));
  });
});

describe('runners', () => {
  it('finds runners by name prefix, gets one, and deletes an idle one', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, org: 'acme' };
    const mine = await generateJitConfig(gh, scope, { name: 'rh-big-1', labels: ['big'] });
    await generateJitConfig(gh, scope, { name: 'rh-big-2', labels: ['big'] });
    await generateJitConfig(gh, scope, { name: 'other-rh-big-3', labels: ['big'] });
    expect((await listRunners(gh, scope, 'rh-big-')).map((r) => r.name)).toEqual(['rh-big-1', 'rh-big-2']);
    expect((await listRunners(gh, scope)).length).toBe(3);
    expect(await getRunner(gh, scope, mine.runner.id)).toMatchObject({ id: mine.runner.id, name: 'rh-big-1', status: 'offline', busy: false });
    await deleteRunner(gh, scope, mine.runner.id);
    await expect(getRunner(gh, scope, mine.runner.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(deleteRunner(gh, scope, mine.runner.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses to delete a runner while it runs a job (RunnerBusyError), and deletes it after', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    const { runner, encodedJitConfig } = await generateJitConfig(gh, scope, { name: 'rh-x-1', labels: ['self-hosted', 'x'] });
    const agent = await connectRunner(encodedJitConfig);
    const queued = h.sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'x'], durationMs: 60_000 });
    const job = await agent.takeJob(5);
    expect(job?.id).toBe(queued.id);
    expect(await getRunner(gh, scope, runner.id)).toMatchObject({ status: 'online', busy: true });

    const error = await deleteRunner(gh, scope, runner.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunnerBusyError);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as RunnerBusyError).message).toMatch(/^DELETE \/repos\/acme\/app\/actions\/runners\/\d+: 422 .*still running a job/);

    // An ephemeral runner is gone once its job is done.
    await agent.complete(queued.id);
    await expect(getRunner(gh, scope, runner.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('runner groups', () => {
  it('lists the groups of an organization and resolves a name to an id', async () => {
    const gh = h.client();
    const org = { installationId: h.acme.id, org: 'acme' };
    const groups = await listRunnerGroups(gh, h.acme.id, 'acme');
    expect(groups.map((g) => [g.id, g.name, g.default])).toEqual([[1, 'Default', true]]);
    expect(await resolveRunnerGroup(gh, org, 'default')).toBe(1);
    expect(await resolveRunnerGroup(gh, org, 'DEFAULT')).toBe(1);
    const missing = await resolveRunnerGroup(gh, org, 'gpu-hosts').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as Error).message).toMatch(/organization acme has no runner group named gpu-hosts/);
    await expect(resolveRunnerGroup(gh, { installationId: h.acme.id, repository: 'acme/app' }, 'gpu-hosts')).rejects.toBeInstanceOf(ValidationError);
  });
});
