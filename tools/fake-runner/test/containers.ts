import { startGitHubSim, type GitHubSim, type SimOptions } from '@runnerhub/github-sim';
import { createDockerClient, demuxLogLines, runnerContainerSpec, type RunnerContainerRequest } from '@runnerhub/docker';
import { DOCKER_PROXY_URL } from '@runnerhub/testing';
import type Docker from 'dockerode';

/** Shared by the image tests: Docker through the socket proxy, a sim that containers can reach. */
export const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));

export async function startSimForContainers(options: SimOptions = {}): Promise<GitHubSim> {
  // Containers reach the host at their bridge's gateway; the sim listens on every interface.
  const bridge = (await docker.getNetwork('bridge').inspect()) as { IPAM: { Config: { Gateway?: string }[] } };
  const gateway = bridge.IPAM.Config.find((c) => c.Gateway)?.Gateway ?? '172.17.0.1';
  const sim = await startGitHubSim({ ...options, host: '0.0.0.0', runnerHost: gateway });
  sim.createInstallation({ account: 'acme', type: 'Organization', repositories: ['app'] });
  return sim;
}

/** The workflow_job actions the sim sent for a job, in order. */
export function jobActions(sim: GitHubSim, jobId: number): (string | null)[] {
  return sim
    .deliveries()
    .filter((d) => d.event === 'workflow_job' && (d.payload as { workflow_job: { id: number } }).workflow_job.id === jobId)
    .map((d) => d.action);
}

/** Waits for the container to exit; its code and output (stdout and stderr, demultiplexed). */
export async function finish(container: Docker.Container): Promise<{ code: number; logs: string }> {
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  const logs = demuxLogLines(await container.logs({ stdout: true, stderr: true }), 500).join('\n');
  await container.remove({ v: true });
  return { code: StatusCode, logs };
}

/** The spec our executor would make for a runner of this image (hardened, the image's run.sh). */
export function executorSpec(name: string, image: string, patch: Partial<RunnerContainerRequest> = {}): Docker.ContainerCreateOptions {
  return runnerContainerSpec({
    deploymentId: 'image-test',
    host: 'test',
    pool: 'test',
    runnerId: name,
    runnerName: name,
    jobId: '0',
    image,
    command: ['/home/runner/run.sh'],
    env: {},
    cpus: 1,
    memoryBytes: 512 * 1024 * 1024,
    pidsLimit: 256,
    cacheVolumes: [],
    networkName: 'bridge',
    dockerInJob: 'none',
    readOnlyRoot: false,
    ...patch,
  });
}
