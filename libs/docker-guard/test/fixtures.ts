import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { hostCapabilitiesFrom, type DockerInfo, type HostCapabilities, type RunnerContainerRequest } from '@runnerhub/docker';
import type { GuardPolicy } from '../src/index.js';

/** Every recorded host of libs/docker/test/hosts, plus a fully capable one and one that can enforce nothing. */
const hostsDir = new URL('../../docker/test/hosts/', import.meta.url);
export const recordedHosts: ReadonlyArray<{ name: string; host: HostCapabilities }> = readdirSync(hostsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ name: f.replace(/\.json$/, ''), host: hostCapabilitiesFrom(JSON.parse(readFileSync(new URL(f, hostsDir), 'utf8')) as DockerInfo) }));

export const DEPLOYMENT = 'nas-1';

export const policy: GuardPolicy = {
  deployments: [DEPLOYMENT],
  namePrefix: 'rh-',
  images: ['ghcr.io/actions/actions-runner:*', 'runnerhub/*'],
  volumes: ['rh-*'],
  sudoPools: ['builds'],
};

const name = fc.stringMatching(/^[a-z0-9]{1,12}$/);

/** Any runner request a pool of this deployment can make, sudo pools being `builds`. */
export const runnerRequests: fc.Arbitrary<RunnerContainerRequest> = fc
  .record({
    suffix: name,
    sudo: fc.boolean(),
    image: fc.constantFrom('ghcr.io/actions/actions-runner:2.330.0', 'ghcr.io/actions/actions-runner:latest', 'runnerhub/fake-runner:dev', 'runnerhub/actions-runner:dev'),
    command: fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }),
    env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/).filter((k) => !k.startsWith('ACTIONS_RUNNER_INPUT_')), fc.string(), { maxKeys: 4 }),
    cpus: fc.double({ min: 0.01, max: 64, noNaN: true }),
    memoryBytes: fc.integer({ min: 64 * 1024 ** 2, max: 2 ** 40 }),
    pidsLimit: fc.integer({ min: 16, max: 100_000 }),
    readOnlyRoot: fc.boolean(),
    dockerInJob: fc.constantFrom('none' as const, 'sysbox' as const),
    ownNetwork: fc.boolean(),
    keepAfterExit: fc.boolean(),
    maxLifetimeSeconds: fc.nat(86_400),
    jobId: fc.oneof(fc.constant('0'), fc.nat().map(String)),
    cacheVolumes: fc.array(
      fc.record({ name: name.map((n) => `rh-cache-${n}`), mountPath: fc.constantFrom('/home/runner/.npm', '/home/runner/.cache', '/opt/cache', '/home/runner/work/_tool'), readOnly: fc.boolean() }),
      { maxLength: 3 },
    ),
  })
  .map((r) => ({
    deploymentId: DEPLOYMENT,
    host: 'nas',
    pool: r.sudo ? 'builds' : 'linux',
    runnerId: `r-${r.suffix}`,
    runnerName: `rh-${r.sudo ? 'builds' : 'linux'}-${r.suffix}`,
    jobId: r.jobId,
    image: r.image,
    command: r.command,
    env: r.env,
    cpus: r.cpus,
    memoryBytes: r.memoryBytes,
    pidsLimit: r.pidsLimit,
    cacheVolumes: r.cacheVolumes,
    networkName: r.ownNetwork ? `rh-${r.suffix}` : `rh-${r.sudo ? 'builds' : 'linux'}`,
    dockerInJob: r.dockerInJob,
    readOnlyRoot: r.readOnlyRoot,
    ownNetwork: r.ownNetwork,
    keepAfterExit: r.keepAfterExit,
    maxLifetimeSeconds: r.maxLifetimeSeconds,
    sudo: r.sudo,
  }));

/** A body as dockerode sends it: the spec without `name`... and with it, as dockerode also keeps it in the body. */
export function wire<T>(spec: T): unknown {
  return JSON.parse(JSON.stringify(spec)) as unknown;
}
