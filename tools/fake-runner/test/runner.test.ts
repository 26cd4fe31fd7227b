import { spawn } from 'node:child_process';
import { createSign } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitHubSim, type GitHubSim } from '@runnerhub/github-sim';
import { waitFor } from '@runnerhub/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

interface Run {
  code: Promise<number | null>;
  output(): string;
  kill(signal: NodeJS.Signals): void;
}

/** The runner as its own process, the way run.sh starts it. */
function startRunner(args: string[], env: Record<string, string> = {}): Run {
  const root = mkdtempSync(join(tmpdir(), 'fake-runner-'));
  const child = spawn(process.execPath, ['--conditions=runnerhub-source', '--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: root, RUNNER_ALLOW_RUNASROOT: '1', RUNNER_ROOT: root, RUNNER_CONNECT_TIMEOUT_SECONDS: '3', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, output: () => output, kill: (s) => child.kill(s) };
}

let sim: GitHubSim;

/** An installation token for acme, the way an App gets one: JWT → access_tokens. */
async function installationToken(): Promise<string> {
  const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(sim.now() / 1000);
  const unsigned = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ iat: now - 30, exp: now + 300, iss: String(sim.app.id) })}`;
  const jwt = `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(sim.app.privateKey, 'base64url')}`;
  const headers = { accept: 'application/vnd.github+json', 'user-agent': 'fake-runner-test', authorization: `Bearer ${jwt}` };
  const installation = (await (await fetch(`${sim.url}/repos/acme/app/installation`, { headers })).json()) as { id: number };
  const tokenResponse = await fetch(`${sim.url}/app/installations/${installation.id}/access_tokens`, { method: 'POST', headers });
  return ((await tokenResponse.json()) as { token: string }).token;
}

/** DELETE /repos/acme/app/actions/runners/{id} the way an App does. */
async function deleteRunnerViaRest(runnerId: number): Promise<void> {
  const headers = { accept: 'application/vnd.github+json', 'user-agent': 'fake-runner-test', authorization: `token ${await installationToken()}` };
  const deleted = await fetch(`${sim.url}/repos/acme/app/actions/runners/${runnerId}`, { method: 'DELETE', headers });
  expect(deleted.status).toBe(204);
}

/**
 * A JIT config from a runner scale set, through the scale-set protocol (github-sim
 * contracts/scale-set.md): registration token → admin token → scale set → a session that announces
 * capacity → generatejitconfig.
 */
async function scaleSetJitConfig(scaleSetName: string, runnerName: string): Promise<string> {
  const json = { 'content-type': 'application/json' };
  const registration = await fetch(`${sim.url}/repos/acme/app/actions/runners/registration-token`, {
    method: 'POST',
    headers: { accept: 'application/vnd.github+json', authorization: `token ${await installationToken()}` },
  });
  const { token } = (await registration.json()) as { token: string };
  const admin = (await (
    await fetch(`${sim.url}/actions/runner-registration`, { method: 'POST', headers: { ...json, authorization: `RemoteAuth ${token}` }, body: JSON.stringify({ url: `${sim.url}/acme/app`, runner_event: 'register' }) })
  ).json()) as { url: string; token: string };
  const tenant = async <T>(method: string, path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${admin.url}${path}?api-version=6.0-preview`, { method, headers: { ...json, authorization: `Bearer ${admin.token}` }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };
  const scaleSet = await tenant<{ id: number }>('POST', '_apis/runtime/runnerscalesets', { name: scaleSetName, runnerGroupId: 1, labels: [{ name: scaleSetName, type: 'System' }] });
  const session = await tenant<{ messageQueueUrl: string; messageQueueAccessToken: string }>('POST', `_apis/runtime/runnerscalesets/${scaleSet.id}/sessions`, { ownerName: 'test' });
  const poll = await fetch(session.messageQueueUrl, {
    headers: { authorization: `Bearer ${session.messageQueueAccessToken}`, accept: 'application/json; api-version=6.0-preview', 'x-scalesetmaxcapacity': '1' },
  });
  expect(poll.status).toBe(202);
  return (await tenant<{ encodedJITConfig: string }>('POST', `_apis/runtime/runnerscalesets/${scaleSet.id}/generatejitconfig`, { name: runnerName, workFolder: '' })).encodedJITConfig;
}

const actions = (jobId: number) =>
  sim
    .deliveries()
    .filter((d) => d.event === 'workflow_job' && (d.payload as { workflow_job: { id: number } }).workflow_job.id === jobId)
    .map((d) => d.action);

beforeEach(async () => {
  sim = await startGitHubSim({ scaleSets: { pollWaitMs: 50 } });
  sim.createInstallation({ account: 'acme', type: 'Organization', repositories: ['app'] });
});

afterEach(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
});

describe('fake runner', () => {
  it('takes its one job from ACTIONS_RUNNER_INPUT_JITCONFIG, runs it, reports it and exits 0', async () => {
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name: 'rh-1', labels: ['self-hosted', 'linux'] });
    const runner = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encodedJitConfig });
    await waitFor(() => sim.runners().find((r) => r.name === 'rh-1')?.status === 'online', { what: 'runner online' });
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'linux'], command: 'test "$GITHUB_REPOSITORY" = acme/app && test -z "$ACTIONS_RUNNER_INPUT_JITCONFIG"' });
    const inProgress = await sim.waitForDelivery((d) => d.action === 'in_progress' && (d.payload as { workflow_job: { id: number } }).workflow_job.id === job.id);
    expect(inProgress.payload).toMatchObject({ workflow_job: { runner_name: 'rh-1', labels: ['self-hosted', 'linux'] } });
    expect(await runner.code).toBe(0);
    expect(sim.job(job.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'rh-1' });
    await waitFor(() => actions(job.id).length === 3, { what: 'three deliveries' });
    expect(actions(job.id)).toEqual(['queued', 'in_progress', 'completed']);
    expect(sim.runners().find((r) => r.name === 'rh-1')).toBeUndefined();
    expect(runner.output()).toContain('Job build completed with result: Succeeded');
  });

  it('runs a job assigned to a runner scale set from the JIT config the scale set made, exactly as from a REST one', async () => {
    const encodedJitConfig = await scaleSetJitConfig('rh-small', 'rh-small-1');
    const runner = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encodedJitConfig });
    await waitFor(() => sim.runners().find((r) => r.name === 'rh-small-1')?.status === 'online', { what: 'runner online' });
    const job = sim.createJob({ repository: 'acme/app', labels: ['rh-small'], command: 'test "$GITHUB_REPOSITORY" = acme/app' });
    expect(await runner.code).toBe(0);
    expect(sim.job(job.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: 'rh-small-1', scaleSetId: sim.scaleSets()[0]!.id });
    await waitFor(() => actions(job.id).length === 3, { what: 'three deliveries' });
    expect(sim.runners()).toEqual([]);
  });

  it('accepts --jitconfig, reports a failing command as failure and removes its config files', async () => {
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name: 'rh-2', labels: ['x'] });
    const root = mkdtempSync(join(tmpdir(), 'fake-runner-root-'));
    const runner = startRunner(['--jitconfig', encodedJitConfig], { RUNNER_ROOT: root });
    const job = sim.createJob({ repository: 'acme/app', labels: ['x'], command: 'exit 3' });
    expect(await runner.code).toBe(0);
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'failure' });
    expect(existsSync(join(root, '.runner'))).toBe(false);
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('stops a job cancelled on GitHub and reports it cancelled', async () => {
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name: 'rh-3', labels: ['x'] });
    const runner = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encodedJitConfig });
    const job = sim.createJob({ repository: 'acme/app', labels: ['x'], command: 'sleep 60' });
    await waitFor(() => sim.job(job.id)?.status === 'in_progress', { what: 'job running' });
    sim.cancelJob(job.id);
    expect(await runner.code).toBe(0);
    expect(sim.job(job.id)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
  }, 30_000);

  it('cancels its job on SIGTERM, as run.sh forwards it', async () => {
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name: 'rh-4', labels: ['x'] });
    const runner = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encodedJitConfig });
    const job = sim.createJob({ repository: 'acme/app', labels: ['x'], durationMs: 60_000 });
    await waitFor(() => sim.job(job.id)?.status === 'in_progress', { what: 'job running' });
    runner.kill('SIGTERM');
    expect(await runner.code).toBe(0);
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'cancelled' });
  });

  it('exits 0 without a job for a used, deleted or garbled config, as the real runner terminates', async () => {
    const { encodedJitConfig, runner: registered } = sim.createJitRunner({ repository: 'acme/app', name: 'rh-5', labels: ['x'] });
    const first = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encodedJitConfig });
    await waitFor(() => sim.runners().find((r) => r.id === registered.id)?.status === 'online', { what: 'first runner online' });
    const second = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encodedJitConfig });
    expect(await second.code).toBe(0);
    expect(second.output()).toMatch(/session for this runner already exists/);
    expect(second.output()).not.toContain('Running job');
    first.kill('SIGTERM');
    expect(await first.code).toBe(0);

    // Deleted through the REST API (as our reaper does) before the runner ever started.
    const removed = sim.createJitRunner({ repository: 'acme/app', name: 'rh-6a', labels: ['x'] });
    await deleteRunnerViaRest(removed.runner.id);
    const late = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: removed.encodedJitConfig });
    expect(await late.code).toBe(0);
    expect(late.output()).toContain('Failed to create a session. The runner registration has been deleted from the server');

    const deleted = sim.createJitRunner({ repository: 'acme/app', name: 'rh-6', labels: ['x'] });
    // Never used: GitHub removes the registration after a day.
    sim.advanceClock(25 * 3_600_000);
    const gone = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: deleted.encodedJitConfig });
    expect(await gone.code).toBe(0);
    expect(gone.output()).toContain('The runner registration has been deleted from the server');

    const garbled = startRunner(['--jitconfig', 'not//base64!!']);
    expect(await garbled.code).toBe(0);
    expect(garbled.output()).toMatch(/JIT config is not base64/);
  }, 30_000);

  it.runIf(process.getuid?.() === 0)('refuses to run as root without RUNNER_ALLOW_RUNASROOT (exit 1)', async () => {
    const { encodedJitConfig, runner: registered } = sim.createJitRunner({ repository: 'acme/app', name: 'rh-8', labels: ['x'] });
    const runner = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encodedJitConfig, RUNNER_ALLOW_RUNASROOT: '' });
    expect(await runner.code).toBe(1);
    expect(runner.output()).toContain('Must not run with sudo');
    expect(sim.runners().find((r) => r.id === registered.id)).toMatchObject({ jitUsed: false });
  });

  it('gives up on an unreachable server with exit 2', async () => {
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name: 'rh-7', labels: ['x'] });
    await sim.close();
    const runner = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encodedJitConfig, RUNNER_CONNECT_TIMEOUT_SECONDS: '1' });
    expect(await runner.code).toBe(2);
    sim = await startGitHubSim();
  });

  it('plays an outdated runner: the broker refuses it, it exits as run.sh does (0, or 7 with ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE=1) and its job waits', async () => {
    await sim.close();
    sim = await startGitHubSim({ runnerReleases: [{ version: '2.330.0', publishedAt: Date.now() - 45 * 86_400_000 }] });
    sim.createInstallation({ account: 'acme', type: 'Organization', repositories: ['app'] });
    const job = sim.createJob({ repository: 'acme/app', labels: ['old'] });
    const plain = startRunner([], { ACTIONS_RUNNER_INPUT_JITCONFIG: sim.createJitRunner({ repository: 'acme/app', name: 'rh-old-1', labels: ['old'] }).encodedJitConfig, RUNNERHUB_RUNNER_VERSION: '2.300.0' });
    expect(await plain.code).toBe(0);
    expect(plain.output()).toContain("Current runner version: '2.300.0'");
    expect(plain.output()).toContain('An error occurred: Runner version v2.300.0 is deprecated and cannot receive messages.');
    const arc = startRunner([], {
      ACTIONS_RUNNER_INPUT_JITCONFIG: sim.createJitRunner({ repository: 'acme/app', name: 'rh-old-2', labels: ['old'] }).encodedJitConfig,
      RUNNERHUB_RUNNER_VERSION: '2.300.0',
      ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE: '1',
    });
    expect(await arc.code).toBe(7);
    expect(sim.job(job.id)?.status).toBe('queued');
    sim.cancelJob(job.id);
  });
});
