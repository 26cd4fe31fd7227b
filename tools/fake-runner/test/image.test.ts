import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { startGitHubSim, type GitHubSim } from '@runnerhub/github-sim';
import { createDockerClient, jitArchive, JIT_DIR, runnerContainerSpec } from '@runnerhub/docker';
import { DOCKER_PROXY_URL, repoRoot, waitFor } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const IMAGE = 'runnerhub/fake-runner:dev';
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));
const name = `rh-image-test-${randomBytes(3).toString('hex')}`;

describe('the fake runner image on the real Docker engine', () => {
  let sim: GitHubSim;

  beforeAll(async () => {
    await run('bash', [`${repoRoot}scripts/build-runner-image.sh`, IMAGE]);
    // Containers reach the host at their bridge's gateway; the sim listens on every interface.
    const bridge = (await docker.getNetwork('bridge').inspect()) as { IPAM: { Config: { Gateway?: string }[] } };
    const gateway = bridge.IPAM.Config.find((c) => c.Gateway)?.Gateway ?? '172.17.0.1';
    sim = await startGitHubSim({ host: '0.0.0.0', runnerHost: gateway });
    sim.createInstallation({ account: 'acme', repositories: ['app'] });
  }, 180_000);

  afterAll(async () => {
    await docker.getContainer(name).remove({ force: true, v: true }).catch(() => undefined);
    await sim?.close();
  });

  it('registers with its JIT config, runs one job (queued → in_progress → completed) and exits 0', async () => {
    const { encodedJitConfig } = sim.createJitRunner({ repository: 'acme/app', name, labels: ['docker'] });
    // The same hardened spec and JIT file delivery the executor uses, with the image's own run.sh.
    const container = await docker.createContainer(
      runnerContainerSpec({
        deploymentId: 'image-test',
        host: 'test',
        pool: 'test',
        runnerId: name,
        runnerName: name,
        jobId: '0',
        image: IMAGE,
        command: ['/home/runner/run.sh'],
        env: {},
        cpus: 1,
        memoryBytes: 512 * 1024 * 1024,
        pidsLimit: 256,
        cacheVolumes: [],
        networkName: 'bridge',
        dockerInJob: 'none',
        readOnlyRoot: false,
      }),
    );
    await container.putArchive(await jitArchive(encodedJitConfig, { uid: 1001, gid: 1001 }), { path: JIT_DIR });
    await container.start();
    await waitFor(() => sim.runners().find((r) => r.name === name)?.status === 'online', { what: 'the containerised runner to connect', timeoutMs: 30_000 });
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'docker'], command: 'echo "hello from $RUNNER_NAME"; id -u' });
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    expect(StatusCode).toBe(0);
    expect(logs).toContain(`hello from ${name}`);
    expect(logs).toContain('1001');
    const actions = sim
      .deliveries()
      .filter((d) => d.event === 'workflow_job' && (d.payload as { workflow_job: { id: number } }).workflow_job.id === job.id)
      .map((d) => d.action);
    expect(actions).toEqual(['queued', 'in_progress', 'completed']);
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'success', runnerName: name });
    expect(sim.violations()).toEqual([]);
  }, 60_000);
});
