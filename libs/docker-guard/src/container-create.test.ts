import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAPABLE_HOST, ContainerSpecError, LABEL, planRunnerContainer, type RunnerContainerRequest, type SpecHost } from '@runnerhub/docker';
import { checkContainerCreate, type Decision } from './index.js';
import { DEPLOYMENT, policy, recordedHosts, runnerRequests, wire } from '../test/fixtures.js';

/** A host that can enforce nothing: no CFS quota, no shares, no memory or pids cgroup. */
const BARE_HOST: SpecHost = { cpuCfsQuota: false, cpuCfsPeriod: false, cpuShares: false, pidsLimit: false, memoryLimit: false, swapLimit: false, cgroupVersion: '1' };
const hosts: ReadonlyArray<{ name: string; host: SpecHost }> = [...recordedHosts, { name: 'capable', host: CAPABLE_HOST }, { name: 'bare', host: BARE_HOST },
  { name: 'no swap accounting', host: { ...CAPABLE_HOST, swapLimit: false } },
];

type Body = Record<string, unknown> & { HostConfig: Record<string, unknown>; Labels: Record<string, string> };

function plan(request: RunnerContainerRequest, host: SpecHost): { name: string; body: Body } | undefined {
  try {
    const { spec } = planRunnerContainer(request, host);
    return { name: spec.name!, body: wire(spec) as Body };
  } catch (error) {
    // A sysbox pool on a host without sysbox-runc is refused by the template itself.
    if (error instanceof ContainerSpecError) return undefined;
    throw error;
  }
}

const decide = (name: string | null, body: unknown): Decision => checkContainerCreate({ name }, body, policy);

describe('every spec planRunnerContainer makes passes the guard', () => {
  it.each(hosts.map((h) => [h.name, h.host] as const))('on %s, for any pool request (sudo or not, read-only root or not, any limits and cache volumes)', (_name, host) => {
    fc.assert(
      fc.property(runnerRequests, (request) => {
        const planned = plan(request, host);
        fc.pre(planned !== undefined);
        expect(decide(planned.name, planned.body)).toEqual({ allow: true });
      }),
      { numRuns: 300 },
    );
  });

  it('the host fixtures really make different specs (CpuShares, no PidsLimit, no MemorySwap all occur)', () => {
    const specs = hosts.map((h) => plan({ ...fc.sample(runnerRequests, 1)[0]!, dockerInJob: 'none' }, h.host)!.body.HostConfig);
    expect(specs.some((hc) => 'CpuShares' in hc && !('NanoCpus' in hc))).toBe(true);
    expect(specs.some((hc) => !('PidsLimit' in hc))).toBe(true);
    expect(specs.some((hc) => 'Memory' in hc && !('MemorySwap' in hc))).toBe(true);
  });
});

/** Each escape of the outside test, and its relatives, as a change to a valid body. */
const escapes: ReadonlyArray<[string, (b: Body) => void, RegExp]> = [
  ['privileged', (b) => (b.HostConfig['Privileged'] = true), /Privileged/],
  ['privileged, spelled in lower case (Docker matches field names without case)', (b) => (b.HostConfig['privileged'] = true), /HostConfig.privileged is not part/],
  ['bind of /', (b) => (b.HostConfig['Binds'] = ['/:/host']), /Binds/],
  ['bind of the Docker socket', (b) => (b.HostConfig['Binds'] = ['/var/run/docker.sock:/var/run/docker.sock']), /Binds/],
  ['bind mount through Mounts', (b) => (b.HostConfig['Mounts'] = [{ Type: 'bind', Source: '/', Target: '/host' }]), /only named volumes/],
  ['volume mount of a host path through driver options', (b) => (b.HostConfig['Mounts'] = [{ Type: 'volume', Source: 'rh-x', Target: '/x', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/' } } } }]), /VolumeOptions/],
  ['a volume that is not ours', (b) => (b.HostConfig['Mounts'] = [{ Type: 'volume', Source: 'nextcloud_data', Target: '/data' }]), /not a cache volume of ours/],
  ['a volume over /etc', (b) => (b.HostConfig['Mounts'] = [{ Type: 'volume', Source: 'rh-x', Target: '/etc' }]), /may not cover/],
  ['tmpfs elsewhere', (b) => (b.HostConfig['Tmpfs'] = { '/tmp': 'rw,exec' }), /Tmpfs/],
  ['host network', (b) => (b.HostConfig['NetworkMode'] = 'host'), /NetworkMode/],
  ["another container's network", (b) => (b.HostConfig['NetworkMode'] = 'container:postgres'), /NetworkMode/],
  ['host pid namespace', (b) => (b.HostConfig['PidMode'] = 'host'), /PidMode/],
  ['host ipc namespace', (b) => (b.HostConfig['IpcMode'] = 'host'), /IpcMode/],
  ['host uts namespace', (b) => (b.HostConfig['UTSMode'] = 'host'), /UTSMode/],
  ['host user namespace', (b) => (b.HostConfig['UsernsMode'] = 'host'), /UsernsMode/],
  ['host cgroup namespace', (b) => (b.HostConfig['CgroupnsMode'] = 'host'), /CgroupnsMode/],
  ['CapAdd SYS_ADMIN', (b) => (b.HostConfig['CapAdd'] = ['SYS_ADMIN']), /CapAdd SYS_ADMIN/],
  ['CapAdd ALL', (b) => (b.HostConfig['CapAdd'] = ['ALL']), /CapAdd ALL/],
  ['capabilities kept (no CapDrop)', (b) => delete b.HostConfig['CapDrop'], /CapDrop/],
  ['a device', (b) => (b.HostConfig['Devices'] = [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }]), /Devices/],
  ['a device cgroup rule', (b) => (b.HostConfig['DeviceCgroupRules'] = ['b *:* rwm']), /DeviceCgroupRules/],
  ['GPU device requests', (b) => (b.HostConfig['DeviceRequests'] = [{ Count: -1 }]), /DeviceRequests/],
  ['seccomp off', (b) => (b.HostConfig['SecurityOpt'] = ['no-new-privileges:true', 'seccomp=unconfined']), /seccomp=unconfined/],
  ['apparmor off', (b) => (b.HostConfig['SecurityOpt'] = ['no-new-privileges:true', 'apparmor=unconfined']), /apparmor=unconfined/],
  ['sysctls', (b) => (b.HostConfig['Sysctls'] = { 'kernel.core_pattern': '|/tmp/x' }), /Sysctls/],
  ['another runtime', (b) => (b.HostConfig['Runtime'] = 'nvidia'), /Runtime/],
  ['extra hosts', (b) => (b.HostConfig['ExtraHosts'] = ['x:1.2.3.4']), /ExtraHosts/],
  ['published ports', (b) => (b.HostConfig['PortBindings'] = { '22/tcp': [{ HostPort: '2222' }] }), /PortBindings/],
  ['volumes of another container', (b) => (b.HostConfig['VolumesFrom'] = ['postgres']), /VolumesFrom/],
  ['no limits at all', (b) => (b.HostConfig['Memory'] = 0), /Memory/],
  ['swap beyond memory', (b) => (b.HostConfig['MemorySwap'] = -1), /MemorySwap/],
  ['a restart policy', (b) => (b.HostConfig['RestartPolicy'] = { Name: 'always' }), /RestartPolicy/],
  ['networking config', (b) => (b['NetworkingConfig'] = { EndpointsConfig: { host: {} } }), /NetworkingConfig/],
  ['root user', (b) => (b['User'] = 'root'), /User/],
  ['another entrypoint', (b) => (b['Entrypoint'] = ['/bin/sh']), /Entrypoint/],
  ['a command without the wrapper', (b) => (b['Cmd'] = ['/bin/sh', '-c', 'id']), /Cmd/],
  ['the JIT config in the environment', (b) => (b['Env'] = ['ACTIONS_RUNNER_INPUT_JITCONFIG=abc']), /runner inputs/],
  ["another deployment's labels", (b) => (b.Labels[LABEL.deployment] = 'someone-else'), /deployment "someone-else"/],
  ['no managed label', (b) => delete b.Labels[LABEL.managed], /io.runnerhub.managed/],
  ['no labels', (b) => delete (b as Record<string, unknown>)['Labels'], /Labels are required/],
  ['a foreign label', (b) => (b.Labels['com.docker.compose.project'] = 'nextcloud'), /com.docker.compose.project/],
  ['an image no pool names', (b) => (b['Image'] = 'alpine:3'), /image "alpine:3"/],
  ['an extra anonymous volume', (b) => (b['Volumes'] = { '/run/runnerhub': {}, '/data': {} }), /Volumes/],
];

describe('a create with any forbidden field is refused', () => {
  it.each(escapes.map(([what, change, message]) => [what, change, message] as const))('%s', (_what, change, message) => {
    fc.assert(
      fc.property(runnerRequests, fc.constantFrom(...hosts), (request, { host }) => {
        const planned = plan(request, host);
        fc.pre(planned !== undefined);
        change(planned.body);
        const decision = decide(planned.name, planned.body);
        expect(decision.allow).toBe(false);
        expect(decision.allow ? '' : decision.reason).toMatch(message);
      }),
      { numRuns: 40 },
    );
  });

  it('any key the template does not use, at the top, in HostConfig or in a mount, with any value', () => {
    const top = new Set(['name', 'Image', 'Cmd', 'Env', 'Labels', 'Volumes', 'HostConfig']);
    fc.assert(
      fc.property(runnerRequests, fc.constantFrom('top', 'HostConfig', 'mount'), fc.string({ minLength: 1 }), fc.jsonValue(), (request, where, key, value) => {
        const planned = plan({ ...request, dockerInJob: 'none', cacheVolumes: [{ name: 'rh-cache-a', mountPath: '/opt/a', readOnly: false }] }, CAPABLE_HOST)!;
        const target = where === 'top' ? planned.body : where === 'HostConfig' ? planned.body.HostConfig : (planned.body.HostConfig['Mounts'] as Array<Record<string, unknown>>)[0]!;
        fc.pre(!Object.prototype.hasOwnProperty.call(target, key) && !(where === 'top' && top.has(key)));
        // As JSON.parse makes it: an own property, even for __proto__.
        Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
        expect(decide(planned.name, planned.body).allow).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('any arbitrary JSON body', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (name, body) => {
        expect(decide(`rh-${name}`, body).allow).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a name without the runner prefix, a name that differs from the runner-name label, or none', () => {
    const planned = plan({ ...fc.sample(runnerRequests, 1)[0]!, dockerInJob: 'none' }, CAPABLE_HOST)!;
    expect(decide('nextcloud', { ...planned.body, name: 'nextcloud' })).toMatchObject({ allow: false, reason: expect.stringMatching(/does not start with the runner prefix "rh-"/) as string });
    expect(decide('rh-other', { ...planned.body, name: 'rh-other' })).toMatchObject({ allow: false, reason: expect.stringMatching(/must equal the container name/) as string });
    expect(decide(null, planned.body)).toMatchObject({ allow: false, reason: expect.stringMatching(/with a name/) as string });
  });
});

describe('sudo specs', () => {
  const sudoRequest = (pool: string): RunnerContainerRequest => ({ ...fc.sample(runnerRequests, 1)[0]!, dockerInJob: 'none', sudo: true, pool });

  it('pass only for the pools the deployment allows sudo', () => {
    const allowed = plan(sudoRequest('builds'), CAPABLE_HOST)!;
    expect(decide(allowed.name, allowed.body)).toEqual({ allow: true });
    const other = plan(sudoRequest('linux'), CAPABLE_HOST)!;
    expect(decide(other.name, other.body)).toEqual({ allow: false, reason: expect.stringMatching(/pool "linux" may not run a sudo spec/) as string });
  });

  it('a non-sudo pool may not drop no-new-privileges alone either', () => {
    const planned = plan({ ...sudoRequest('linux'), sudo: false }, CAPABLE_HOST)!;
    planned.body.HostConfig['SecurityOpt'] = [];
    expect(decide(planned.name, planned.body).allow).toBe(false);
  });

  it('no-new-privileges said false is a sudo spec: refused for other pools, and never beside true', () => {
    const planned = plan({ ...sudoRequest('linux'), sudo: false }, CAPABLE_HOST)!;
    planned.body.HostConfig['SecurityOpt'] = ['no-new-privileges:false'];
    expect(decide(planned.name, planned.body)).toEqual({ allow: false, reason: expect.stringMatching(/pool "linux" may not run a sudo spec/) as string });
    const allowed = plan(sudoRequest('builds'), CAPABLE_HOST)!;
    expect(allowed.body.HostConfig['SecurityOpt']).toEqual(['no-new-privileges:false']);
    expect(decide(allowed.name, allowed.body).allow).toBe(true);
    allowed.body.HostConfig['SecurityOpt'] = ['no-new-privileges:true', 'no-new-privileges:false'];
    expect(decide(allowed.name, allowed.body)).toEqual({ allow: false, reason: expect.stringMatching(/both true and false/) as string });
  });

  it('a sudo pool still gets nothing beyond the sudo set', () => {
    const planned = plan(sudoRequest('builds'), CAPABLE_HOST)!;
    (planned.body.HostConfig['CapAdd'] as string[]).push('NET_RAW');
    expect(decide(planned.name, planned.body)).toEqual({ allow: false, reason: expect.stringMatching(/CapAdd NET_RAW/) as string });
  });
});

describe('deployments', () => {
  it("a guard for '*' takes any RunnerHub deployment's runner, never an unlabelled one", () => {
    const planned = plan({ ...fc.sample(runnerRequests, 1)[0]!, dockerInJob: 'none', deploymentId: 'test-123' }, CAPABLE_HOST)!;
    expect(decide(planned.name, planned.body).allow).toBe(false);
    expect(checkContainerCreate({ name: planned.name }, planned.body, { ...policy, deployments: ['*'] })).toEqual({ allow: true });
    planned.body.Labels[LABEL.deployment] = '';
    expect(checkContainerCreate({ name: planned.name }, planned.body, { ...policy, deployments: ['*'] }).allow).toBe(false);
    expect(DEPLOYMENT).toBe('nas-1');
  });
});
