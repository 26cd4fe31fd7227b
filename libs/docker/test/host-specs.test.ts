import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DOCKER_PROXY_URL, ensureTestImage } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDockerClient,
  freeDiskUnderDockerRoot,
  planRunnerContainer,
  readHostCapabilities,
  type DockerInfo,
  type HostCapabilities,
  type RunnerContainerRequest,
} from '../src/index.js';
import { baseRequest, recordedHost } from './fixtures.js';

// The host-adapted spec on this machine's real Docker, through the socket proxy: the container
// each plan describes is created and actually starts, for this host as it is and for specs made
// for recorded NAS hosts (a spec without NanoCpus or Memory must still start anywhere).
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));
const suffix = randomBytes(4).toString('hex');
const deploymentId = `test-hosts-${suffix}`;
let image = '';
let here: HostCapabilities;

const recorded = recordedHost;

beforeAll(async () => {
  image = await ensureTestImage();
  here = await readHostCapabilities(docker, { measureDisk: true });
}, 120_000);

afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: { label: [`io.runnerhub.deployment=${deploymentId}`] } })) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
});

function request(name: string): RunnerContainerRequest {
  const runnerName = `rh-hosts-${name}-${suffix}`;
  return { ...baseRequest, deploymentId, host: 'test', pool: 'p', runnerId: name, runnerName, image, command: ['sh', '-c', 'echo started'], env: {}, memoryBytes: 256 * 1024 ** 2, pidsLimit: 128, cacheVolumes: [], networkName: 'none', readOnlyRoot: true };
}

describe('host capabilities of this machine, read through the socket proxy', () => {
  it('matches what the docker CLI reports, with the architecture as a GitHub label and free disk measured', () => {
    const cli = JSON.parse(execFileSync('docker', ['info', '--format', '{{json .}}'], { encoding: 'utf8' })) as DockerInfo;
    expect(here).toMatchObject({ dockerVersion: cli.ServerVersion, cpus: cli.NCPU, cpuCfsQuota: cli.CpuCfsQuota, pidsLimit: cli.PidsLimit, cgroupVersion: cli.CgroupVersion, storageDriver: cli.Driver, os: 'Linux' });
    expect(here.architecture).toBe({ x86_64: 'X64', aarch64: 'ARM64' }[cli.Architecture ?? ''] ?? null);
    expect(here.apiVersion).toMatch(/^1\.\d+$/);
    expect(here.runtimes).toContain('runc');
    // Outside a container the measure is statfs of Docker's root, as df shows it.
    const df = Number(execFileSync('df', ['--output=avail', '-B1', here.dockerRootDir], { encoding: 'utf8' }).trim().split('\n')[1]);
    expect(Math.abs(here.freeDiskBytes! - df) / df).toBeLessThan(0.05);
    expect(freeDiskUnderDockerRoot(here, { inContainer: true })).toBe(/^overlay2?$/.test(here.storageDriver) ? freeDiskUnderDockerRoot({ ...here, dockerRootDir: '/' }) : undefined);
  });
});

describe('containers from host-adapted specs start on the real engine', () => {
  const cases: Array<[string, () => HostCapabilities, (hostConfig: Record<string, unknown>) => void]> = [
    ['this host as it is', () => here, (c) => expect(c['NanoCpus']).toBe(here.cpuCfsQuota ? 2e9 : 0)],
    ['a spec made for Synology DSM 7.2 (CPU shares, no NanoCpus)', () => recorded('synology-dsm72'), (c) => expect(c).toMatchObject({ NanoCpus: 0, CpuShares: 2048, PidsLimit: 128 })],
    ['a spec made for Raspberry Pi OS arm64 (no memory limit)', () => recorded('raspberry-pi-os-arm64'), (c) => expect(c).toMatchObject({ Memory: 0, NanoCpus: 2e9 })],
    ['a spec made for Raspbian armv7 (shares, no memory limit)', () => recorded('raspbian-armv7'), (c) => expect(c).toMatchObject({ Memory: 0, NanoCpus: 0, CpuShares: 2048 })],
  ];
  it.each(cases.map((c, i) => [...c, i] as const))('%s', async (_name, host, check, index) => {
    const { spec } = planRunnerContainer(request(`case${index}`), host());
    const container = await docker.createContainer(spec);
    check((await container.inspect()).HostConfig as unknown as Record<string, unknown>);
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    expect(StatusCode).toBe(0);
    expect((await container.logs({ stdout: true })).toString()).toContain('started');
    await container.remove({ v: true });
  }, 60_000);
});
