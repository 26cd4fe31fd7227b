import { afterEach, describe, expect, it } from 'vitest';
import { startGitHubSim, type GitHubSim } from '../src/index.js';
import { parseRunnerVersion } from '../src/runner-versions.js';
import { ProtocolRunner } from './helpers.js';

const DAY = 86_400_000;
let sim: GitHubSim;

afterEach(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
});

async function runnerAt(version: string, name: string): Promise<ProtocolRunner> {
  const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name, labels: ['self-hosted', 'old'] });
  const runner = new ProtocolRunner(encodedJitConfig);
  expect(await runner.connect(version)).toBe(201);
  return runner;
}

describe("GitHub's 30-day rule for runner versions", () => {
  it('refuses messages to a runner whose version has had a newer release for over 30 days, with the runner-visible message, and gives its job to a current one', async () => {
    sim = await startGitHubSim({ runnerReleases: [{ version: '2.329.0', publishedAt: Date.now() - 60 * DAY }, { version: '2.330.0', publishedAt: new Date(Date.now() - 31 * DAY).toISOString() }] });
    sim.createInstallation({ account: 'acme', repositories: ['app'] });
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'old'] });
    const outdated = await runnerAt('2.320.0', 'outdated');
    const refused = await outdated.nextJob(1);
    expect(refused).toMatchObject({ status: 403, body: { errorKind: 'RunnerVersionTooOld', message: 'Runner version v2.320.0 is deprecated and cannot receive messages.' } });
    expect(sim.job(job.id)?.status).toBe('queued');
    // 2.329.0's successor is 31 days old: it is out too. The latest is never outdated.
    expect((await (await runnerAt('2.329.0', 'previous')).nextJob(1)).status).toBe(403);
    const current = await runnerAt('2.330.0', 'current');
    expect((await current.nextJob(1)).job?.id).toBe(job.id);
  });

  it('lets a version stay until its successor is 30 days old, on the simulated clock', async () => {
    sim = await startGitHubSim({ runnerReleases: [{ version: '2.330.0', publishedAt: Date.now() - 30 * DAY + 60_000 }] });
    sim.createInstallation({ account: 'acme', repositories: ['app'] });
    const older = await runnerAt('2.329.0-runnerhub-fake', 'older');
    expect((await older.nextJob(0)).status).toBe(204);
    sim.advanceClock(120_000);
    expect((await older.nextJob(0)).status).toBe(403);
    expect(parseRunnerVersion('v2.330.1-rc')).toEqual([2, 330, 1]);
    expect(parseRunnerVersion('unknown')).toBeNull();
  });
});
