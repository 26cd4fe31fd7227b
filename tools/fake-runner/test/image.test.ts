import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { GitHubSim, SimJob } from '@runnerhub/github-sim';
import { jitArchive, JIT_DIR } from '@runnerhub/docker';
import { DOCKER_PROXY_URL, repoRoot, waitFor } from '@runnerhub/testing';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, executorSpec, finish, jobActions, startSimForContainers } from './containers.js';

const run = promisify(execFile);
const IMAGE = 'runnerhub/fake-runner:dev';
const suffix = randomBytes(3).toString('hex');
const created: Docker.Container[] = [];

describe('the fake runner image on the real Docker engine', () => {
  let sim: GitHubSim;

  beforeAll(async () => {
    // Skips the build when the image already has this hash of its inputs.
    await run('bash', [`${repoRoot}scripts/build-runner-image.sh`, IMAGE]);
    sim = await startSimForContainers();
  }, 180_000);

  afterAll(async () => {
    await Promise.all(created.map((c) => c.remove({ force: true, v: true }).catch(() => undefined)));
    expect(sim.violations()).toEqual([]);
    await sim?.close();
  });

  const actions = (job: SimJob): (string | null)[] => jobActions(sim, job.id);

  it('takes ACTIONS_RUNNER_INPUT_JITCONFIG with command /home/runner/run.sh (as ARC starts the official image) and exits 0', async () => {
    const name = `rh-image-env-${suffix}`;
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name, labels: ['self-hosted', 'linux'] });
    const container = await docker.createContainer({
      name,
      Image: IMAGE,
      Cmd: ['/home/runner/run.sh'],
      Env: [`ACTIONS_RUNNER_INPUT_JITCONFIG=${encodedJitConfig}`],
      HostConfig: { AutoRemove: false },
    });
    created.push(container);
    await container.start();
    const job = sim.createJob({
      repository: 'acme/app',
      labels: ['self-hosted', 'linux'],
      command: 'test -z "$ACTIONS_RUNNER_INPUT_JITCONFIG" && test -f /home/runner/.runner && echo "job in $PWD as $(id -u)"',
    });
    const inProgress = await sim.waitForDelivery((d) => d.action === 'in_progress' && (d.payload as { workflow_job: { id: number } }).workflow_job.id === job.id, 30_000);
    expect((inProgress.payload as { workflow_job: { runner_name: string } }).workflow_job.runner_name).toBe(name);

    const { code, logs } = await finish(container);
    expect(code).toBe(0);
    expect(logs).toContain('Connected to GitHub');
    expect(logs).toContain('job in /home/runner/_work/app/app as 1001');
    expect(logs).toContain('Job build completed with result: Succeeded');
    await waitFor(() => actions(job).length === 3, { what: 'the completed webhook' });
    expect(actions(job)).toEqual(['queued', 'in_progress', 'completed']);
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'success', runnerName: name });
    expect(sim.runners().find((r) => r.name === name)).toBeUndefined();
  }, 60_000);

  it('runs under the executor: hardened spec, JIT config delivered as a file, the image run.sh', async () => {
    const name = `rh-image-exec-${suffix}`;
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name, labels: ['self-hosted', 'docker'] });
    const container = await docker.createContainer(
      executorSpec(name, IMAGE),
    );
    created.push(container);
    await container.putArchive(await jitArchive(encodedJitConfig, { uid: 1001, gid: 1001 }), { path: JIT_DIR });
    await container.start();
    await waitFor(() => sim.runners().find((r) => r.name === name)?.status === 'online', { what: 'the containerised runner to connect', timeoutMs: 30_000 });
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'docker'], command: 'echo "hello from $RUNNER_NAME"; id -u' });

    const { code, logs } = await finish(container);
    expect(code).toBe(0);
    expect(logs).toContain(`hello from ${name}`);
    expect(logs).toContain('1001');
    await waitFor(() => actions(job).length === 3, { what: 'the completed webhook' });
    expect(actions(job)).toEqual(['queued', 'in_progress', 'completed']);
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'success', runnerName: name });
  }, 60_000);
});

describe('building the image where DOCKER_HOST is the socket proxy', () => {
  it('refuses, naming the proxy, and leaves no image or container behind', async () => {
    // `make run` once exported its settings (DOCKER_HOST = the proxy) before building this image: the
    // start check's attach was refused and its container stayed behind, on a machine with no image yet.
    const image = `runnerhub/fake-runner:proxy-check-${suffix}`;
    let failed: { code?: number; stderr?: string } | undefined;
    try {
      await run('bash', [`${repoRoot}scripts/build-runner-image.sh`, image], { env: { ...process.env, DOCKER_HOST: DOCKER_PROXY_URL.replace(/^http:/, 'tcp:') } });
    } catch (err) {
      failed = err as { code?: number; stderr?: string };
    }
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain("is RunnerHub's socket proxy");
    expect(await docker.listImages({ filters: { reference: [image] } })).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: { ancestor: [image] } })).toEqual([]);
  }, 60_000);
});
