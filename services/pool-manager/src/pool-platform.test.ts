import { DockerInJobMode } from '@runnerhub/contracts';
import { describe, expect, it } from 'vitest';
import type { HostCapacity } from './placement.js';
import { platformNeeds, poolRunnerLabels } from './pool-platform.js';

const host = (name: string, architecture: string | null, patch: Partial<HostCapacity> = {}): HostCapacity => ({
  host: name,
  healthy: true,
  draining: false,
  labels: {},
  cpus: 4,
  reservedCpus: 1,
  usedCpus: 0,
  memoryBytes: 8 * 1024 ** 3,
  reservedMemoryBytes: 1024 ** 3,
  usedMemoryBytes: 0,
  running: 0,
  maxContainers: 4,
  images: new Set(),
  platform: { os: 'Linux', architecture },
  runtimes: ['runc'],
  ...patch,
});
const pool = (labels: string[], patch: { dockerInJob?: DockerInJobMode; hostSelector?: Record<string, string> } = {}) => ({ labels, dockerInJob: DockerInJobMode.NONE, hostSelector: {}, ...patch });

describe("a pool's labels follow the hosts that serve it", () => {
  it('an x64 NAS gives self-hosted, Linux, X64; a Raspberry Pi gives ARM64, never x64', () => {
    expect(poolRunnerLabels(pool(['docker']), [host('nas', 'X64')])).toEqual(['self-hosted', 'Linux', 'X64', 'docker']);
    expect(poolRunnerLabels(pool(['docker']), [host('pi', 'ARM64')])).toEqual(['self-hosted', 'Linux', 'ARM64', 'docker']);
    // A pool that names x64 needs X64 hosts: a Pi does not serve it (placement refuses it there).
    expect(poolRunnerLabels(pool(['x64', 'pi']), [host('pi', 'ARM64')])).toEqual(['self-hosted', 'Linux', 'X64', 'pi']);
  });

  it('hosts of two architectures: the pool claims neither, so no job asking for one lands on the other', () => {
    expect(poolRunnerLabels(pool(['docker']), [host('nas', 'X64'), host('pi', 'ARM64')])).toEqual(['self-hosted', 'Linux', 'docker']);
  });

  it('a pool naming its architecture keeps it and is served only by such hosts, even when none has reported', () => {
    expect(poolRunnerLabels(pool(['arm64']), [host('nas', 'X64'), host('pi', 'ARM64')])).toEqual(['self-hosted', 'Linux', 'ARM64']);
    expect(poolRunnerLabels(pool(['ARM64', 'big']), [host('nas', 'X64')])).toEqual(['self-hosted', 'Linux', 'ARM64', 'big']);
    expect(platformNeeds(pool(['Arm64']))).toMatchObject({ architecture: 'ARM64', os: null, runtime: null });
  });

  it('only hosts the selector and runtimes allow count; with no host at all, Linux X64 as before hosts reported', () => {
    const hosts = [host('nas', 'X64', { labels: { disk: 'ssd' } }), host('pi', 'ARM64')];
    expect(poolRunnerLabels(pool(['fast'], { hostSelector: { disk: 'ssd' } }), hosts)).toEqual(['self-hosted', 'Linux', 'X64', 'fast']);
    const sysbox = [host('nas', 'X64'), host('pi', 'ARM64', { runtimes: ['runc', 'sysbox-runc'] })];
    expect(poolRunnerLabels(pool(['dind'], { dockerInJob: DockerInJobMode.SYSBOX }), sysbox)).toEqual(['self-hosted', 'Linux', 'ARM64', 'dind']);
    expect(poolRunnerLabels(pool(['docker']), [])).toEqual(['self-hosted', 'Linux', 'X64', 'docker']);
  });
});
