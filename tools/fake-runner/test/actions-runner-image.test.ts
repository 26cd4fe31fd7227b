import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { GitHubSim } from '@runnerhub/github-sim';
import { jitArchive, JIT_DIR } from '@runnerhub/docker';
import { repoRoot, waitFor } from '@runnerhub/testing';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUDO_HINT } from '../src/index.js';
import { docker, executorSpec, finish, jobActions, startSimForContainers } from './containers.js';

// The stand-in for ghcr.io/actions/actions-runner (scripts/build-actions-runner-image.sh) on the
// real engine through the socket proxy, against the simulator: started as ARC starts the official
// image and as our executor does, with its run.sh exit codes, sudo and an outdated version.
const run = promisify(execFile);
const IMAGE = 'runnerhub/actions-runner:dev';
const DAY = 86_400_000;
const suffix = randomBytes(3).toString('hex');
const created: Docker.Container[] = [];

describe('the actions-runner stand-in image', () => {
  let sim: GitHubSim;

  beforeAll(async () => {
    await run('bash', [`${repoRoot}scripts/build-actions-runner-image.sh`, IMAGE]);
    // The latest release is 45 days old: the image's own version (that release) is current, an
    // older one is outdated.
    sim = await startSimForContainers({ runnerReleases: [{ version: '2.330.0', publishedAt: Date.now() - 45 * DAY }] });
  }, 300_000);

  afterAll(async () => {
    await Promise.all(created.map((c) => c.remove({ force: true, v: true }).catch(() => undefined)));
    expect(sim.violations()).toEqual([]);
    await sim?.close();
  });

  /** A container as ARC makes one: the image's user, command /home/runner/run.sh, the JIT config in env. */
  async function asArcStartsIt(name: string, labels: string[], extra: { env?: string[]; cmd?: string[]; jitConfig?: string } = {}): Promise<Docker.Container> {
    const encodedJitConfig = extra.jitConfig ?? sim.createJitRunner({ repository: 'acme/app', name, labels }).encodedJitConfig;
    const jit = extra.cmd ? [] : [`ACTIONS_RUNNER_INPUT_JITCONFIG=${encodedJitConfig}`];
    const container = await docker.createContainer({
      name,
      Image: IMAGE,
      Cmd: extra.cmd ? [...extra.cmd, encodedJitConfig] : ['/home/runner/run.sh'],
      Env: [...jit, ...(extra.env ?? [])],
      Labels: { 'io.runnerhub.test': 'actions-runner-image' },
    });
    created.push(container);
    await container.start();
    return container;
  }

  /** A container as our executor makes one: the hardened spec (sudo or not), the JIT file. */
  async function asExecutorStartsIt(name: string, labels: string[], sudo: boolean): Promise<Docker.Container> {
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name, labels });
    const spec = executorSpec(name, IMAGE, { pool: sudo ? 'sudo' : 'plain', sudo });
    const container = await docker.createContainer(spec);
    created.push(container);
    await container.putArchive(await jitArchive(encodedJitConfig, { uid: 1001, gid: 1001 }), { path: JIT_DIR });
    await container.start();
    await waitFor(() => sim.runners().find((r) => r.name === name)?.status === 'online', { what: `${name} to connect`, timeoutMs: 30_000 });
    return container;
  }

  it('runs a job as ARC starts the official image: user runner in group docker, run.sh exits 0 after the listener', async () => {
    const name = `rh-standin-arc-${suffix}`;
    const container = await asArcStartsIt(name, ['self-hosted', 'Linux', 'X64', 'standin-arc']);
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'linux', 'x64', 'standin-arc'], command: 'test -z "$ACTIONS_RUNNER_INPUT_JITCONFIG" && echo "job as $(id -un) $(id -u) in $(id -Gn)"' });
    const { code, logs } = await finish(container);
    expect(code).toBe(0);
    expect(logs).toMatch(/job as runner 1001 in runner sudo docker/);
    expect(logs).toContain("Current runner version: '2.330.0-runnerhub-fake'");
    expect(logs).toContain('Runner listener exit with 0 return code, stop the service, no retry needed.');
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'success', runnerName: name });
    await waitFor(() => jobActions(sim, job.id).length === 3, { what: 'the completed webhook' });
  }, 90_000);

  it('takes --jitconfig on the command line; a used JIT config is a session conflict that run.sh ends with 0', async () => {
    const name = `rh-standin-arg-${suffix}`;
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name, labels: ['standin-arg'] });
    const cmd = ['/home/runner/run.sh', '--jitconfig'];
    const container = await asArcStartsIt(name, [], { cmd, jitConfig: encodedJitConfig });
    const job = sim.createJob({ repository: 'acme/app', labels: ['standin-arg'], command: 'echo by-argument' });
    const first = await finish(container);
    expect(first.code).toBe(0);
    expect(first.logs).toContain('by-argument');
    expect(sim.job(job.id)?.conclusion).toBe('success');
    // A container started again with the same JIT config is refused, not revived.
    const again = await finish(await asArcStartsIt(`${name}-2`, [], { cmd, jitConfig: encodedJitConfig }));
    expect(again.code).toBe(0);
    expect(again.logs).toMatch(/Runner listener exit with (Session Conflict error|terminated error), stop the service, no retry needed\./);
  }, 90_000);

  it('on a pool without sudo, a step calling sudo fails with the hint naming the pool setting in the job log', async () => {
    const name = `rh-standin-nosudo-${suffix}`;
    const container = await asExecutorStartsIt(name, ['standin-nosudo'], false);
    const job = sim.createJob({ repository: 'acme/app', labels: ['standin-nosudo'], command: 'sudo apt-get install -y jq' });
    const { code, logs } = await finish(container);
    expect(code).toBe(0);
    expect(logs).toContain('The "no new privileges" flag is set');
    expect(logs).toContain(`##[error]${SUDO_HINT}`);
    expect(SUDO_HINT).toContain('`sudo: true`');
    expect(sim.job(job.id)?.conclusion).toBe('failure');
  }, 90_000);

  it('on a sudo pool, the same kind of step works as root', async () => {
    const name = `rh-standin-sudo-${suffix}`;
    const container = await asExecutorStartsIt(name, ['standin-sudo'], true);
    const job = sim.createJob({ repository: 'acme/app', labels: ['standin-sudo'], command: 'sudo -n sh -c "echo installed > /usr/local/bin/tool && chown runner /usr/local/bin/tool" && echo "root is $(sudo -n id -u)"' });
    const { code, logs } = await finish(container);
    expect(code).toBe(0);
    expect(logs).toContain('root is 0');
    expect(logs).not.toContain(SUDO_HINT);
    expect(sim.job(job.id)?.conclusion).toBe('success');
  }, 90_000);

  it('plays an outdated runner: the real messages, exit 0 under run.sh, 7 with ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE=1 (as ARC sets), and no job', async () => {
    const job = sim.createJob({ repository: 'acme/app', labels: ['standin-old'] });
    const plain = await finish(await asArcStartsIt(`rh-standin-old1-${suffix}`, ['standin-old'], { env: ['RUNNERHUB_RUNNER_VERSION=2.300.0'] }));
    expect(plain.code).toBe(0);
    expect(plain.logs).toContain('An error occurred: Runner version v2.300.0 is deprecated and cannot receive messages.');
    expect(plain.logs).toContain('Runner listener exit with terminated error, stop the service, no retry needed.');
    const arc = await finish(await asArcStartsIt(`rh-standin-old2-${suffix}`, ['standin-old'], { env: ['RUNNERHUB_RUNNER_VERSION=2.300.0', 'ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE=1'] }));
    expect(arc.code).toBe(7);
    expect(arc.logs).toContain('Runner listener exit with deprecated version exit code: 7.');
    expect(sim.job(job.id)?.status).toBe('queued');
    sim.cancelJob(job.id);
  }, 90_000);

  it('on docker stop, cancels its job at GitHub and exits 0', async () => {
    const name = `rh-standin-stop-${suffix}`;
    const container = await asExecutorStartsIt(name, ['standin-stop'], false);
    const job = sim.createJob({ repository: 'acme/app', labels: ['standin-stop'], command: 'sleep 60' });
    await waitFor(() => sim.job(job.id)?.status === 'in_progress', { what: 'the job to start' });
    await container.stop({ t: 20 });
    const { code } = await finish(container);
    expect(code).toBe(0);
    await waitFor(() => sim.job(job.id)?.status === 'completed', { what: 'the job to end' });
    expect(sim.job(job.id)?.conclusion).toBe('cancelled');
  }, 90_000);
});
