import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import type { RunnerContainerRequest } from '../src/container-spec.js';
import { hostCapabilitiesFrom, type DockerInfo, type HostCapabilities } from '../src/host-capabilities.js';

/** A runner request as a pool of the official image would make it. */
export const baseRequest: RunnerContainerRequest = {
  deploymentId: 'nas-1',
  host: 'nas',
  pool: 'linux',
  runnerId: 'r-1',
  runnerName: 'rh-linux-abc123',
  jobId: '0',
  image: 'ghcr.io/actions/actions-runner:latest',
  command: ['/home/runner/run.sh'],
  env: { FOO: 'bar' },
  cpus: 2,
  memoryBytes: 2 * 1024 ** 3,
  pidsLimit: 2048,
  cacheVolumes: [{ name: 'rh-cache-npm', mountPath: '/home/runner/.npm', readOnly: false }],
  networkName: 'rh-linux-abc123',
  dockerInJob: 'none',
  readOnlyRoot: false,
};

export type RecordedHost = 'synology-dsm72' | 'qnap-qts52' | 'unraid-70' | 'raspberry-pi-os-arm64' | 'raspbian-armv7';

/** A recorded `docker info` of a real host (hosts/README.md: sources and assumed fields). */
export function recordedHost(name: RecordedHost): HostCapabilities {
  return hostCapabilitiesFrom(JSON.parse(readFileSync(new URL(`./hosts/${name}.json`, import.meta.url), 'utf8')) as DockerInfo);
}

/** Any limits and choices a pool may ask for (fast-check). */
export const poolRequests = fc.record({
  cpus: fc.double({ min: 0.01, max: 64, noNaN: true }),
  memoryBytes: fc.integer({ min: 64 * 1024 ** 2, max: 2 ** 40 }),
  pidsLimit: fc.integer({ min: 16, max: 100_000 }),
  readOnlyRoot: fc.boolean(),
  dockerInJob: fc.constantFrom('none' as const, 'sysbox' as const),
  sudo: fc.option(fc.boolean(), { nil: undefined }),
});
