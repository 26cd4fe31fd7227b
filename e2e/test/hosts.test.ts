import { createDockerClient } from '@runnerhub/docker';
import { DOCKER_PROXY_URL, repoRoot, waitFor } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGES, startPlatform, type Platform } from '../src/index.js';

// Hosts as they are, on the whole path: the executor reports a Synology's recorded docker info (no
// CFS quota) as its host's, so a job runs under the spec that host can honour (CPU shares instead of
// NanoCpus), on a runner registered with the labels its host gives; and a pool whose labels name an
// architecture no host has gets no runner, and `why` names the missing architecture. One platform.

const SYNOLOGY = `${repoRoot}libs/docker/test/hosts/synology-dsm72.json`;
const pool = (name: string, labels: string) => `  - name: ${name}
    repository: acme/app
    labels: [${labels}]
    image: ${RUNNER_IMAGES.fake}
    pullPolicy: never
    cpus: 0.5
    memoryMb: 128
    pids: 256
    idleTimeoutSeconds: 5
    bootTimeoutSeconds: 60
`;

interface Why {
  reason: string;
  detail: string;
}

describe('whole path: what the host can do', () => {
  let platform: Platform;
  const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:\n${pool('nas', 'nas')}${pool('pi', 'arm64, pi')}`,
      env: { 'container-executor': { EXECUTOR_DOCKER_INFO_FILE: SYNOLOGY } },
    });
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
  }, 120_000);

  it('runs a job on a host without CFS quota, with cpus as a weight, on a runner labelled as its host', async () => {
    const { sim } = platform;
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'linux', 'X64', 'nas'], durationMs: 3000 });
    const container = await waitFor(async () => (await platform.containers()).find((c) => c.pool === 'nas' && c.state === 'running'), {
      what: `a running runner of pool nas\n${platform.output()}`,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const inspected = await docker.getContainer(container.id).inspect();
    // Synology DSM 7.2 refuses NanoCpus: the executor sends a weight (0.5 × 1024) instead.
    expect(inspected.HostConfig.NanoCpus ?? 0).toBe(0);
    expect(inspected.HostConfig.CpuShares).toBe(512);
    expect(inspected.HostConfig.Memory).toBe(128 * 1024 * 1024);
    // The runner was registered with self-hosted and its host's OS and architecture, GitHub's spelling.
    expect(sim.runners().find((r) => r.name === container.name)?.labels).toEqual(['self-hosted', 'Linux', 'X64', 'nas']);
    await waitFor(() => sim.job(job.id)?.status === 'completed', { what: `the nas job to complete\n${platform.output()}`, timeoutMs: 60_000, intervalMs: 250 });
    expect(sim.job(job.id)?.conclusion).toBe('success');
    // The executor said once what the host made of the pool's cpus.
    expect(platform.output(200_000)).toMatch(/cpus 0\.5 of pool nas is a weight on host/);
  }, 120_000);

  it('gives a pool whose architecture no host has no runner, and why names the architecture and the host', async () => {
    const { sim } = platform;
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'linux', 'arm64', 'pi'] });
    const answer = await waitFor(
      async () => {
        const w = await platform.api<Why>('scheduler', `/api/jobs/${job.id}/why`);
        return w.status === 200 && w.body.reason === 'no_capable_host' ? w.body : undefined;
      },
      { what: `why to say no_capable_host\n${platform.output()}`, timeoutMs: 45_000, intervalMs: 250 },
    );
    expect(answer.detail).toContain(`no Docker host can run pool pi's runners: no host with ARM64 (${platform.host} is X64)`);
    const runners = await platform.api<{ runners: unknown[] }>('pool-manager', '/api/runners?pool=pi&limit=50');
    expect(runners.body.runners).toEqual([]);
    expect((await platform.containers()).filter((c) => c.pool === 'pi')).toEqual([]);
    expect(sim.job(job.id)?.status).toBe('queued');
    sim.cancelJob(job.id);
  }, 90_000);
});
