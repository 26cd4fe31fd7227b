import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJobBuild, checkJobContainerCreate, checkJobNetworkCreate, checkJobPull, checkJobVolumeCreate, isZero, JOB_LABEL, scopeFilters, type JobCreateInput, type JobScope } from './index.js';

const scope: JobScope = {
  deploymentId: 'nas-1',
  runnerName: 'rh-docker-abc',
  network: 'rh-docker-abc',
  limits: { nanoCpus: 2e9, memoryBytes: 2 * 1024 ** 3, pidsLimit: 512 },
  workDirs: [{ runnerPath: '/home/runner/_work', hostPath: '/var/lib/docker/volumes/rh-docker-abc-work/_data' }],
  protectedImages: ['runnerhub/*', 'ghcr.io/actions/actions-runner:*'],
};
const JOB_VOLUMES = new Set(['rh-docker-abc-data', 'rh-docker-abc-work']);
const JOB_NETWORKS = new Set(['rh-docker-abc', 'rh-docker-abc-compose']);

function resolver(): Omit<JobCreateInput, 'query' | 'body'> {
  return {
    resolveVolume: (n) => (JOB_VOLUMES.has(n) ? n : JOB_VOLUMES.has(`${scope.runnerName}-${n}`) ? `${scope.runnerName}-${n}` : undefined),
    resolveNetwork: (n) => (JOB_NETWORKS.has(n) ? n : JOB_NETWORKS.has(`${scope.runnerName}-${n}`) ? `${scope.runnerName}-${n}` : undefined),
  };
}
const create = (body: unknown, name: string | null = null) => checkJobContainerCreate({ ...resolver(), query: { name }, body }, scope);

/** What `docker run` of the docker CLI 28 sends: every HostConfig field, most of them zero. */
function cliBody(): Record<string, unknown> & { HostConfig: Record<string, unknown> } {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false, StdinOnce: false,
    Env: [], Cmd: ['echo', 'hi'], Image: 'debian-sql:local', Volumes: {}, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {},
    HostConfig: {
      Binds: null, ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default', PortBindings: {}, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [],
      ExtraHosts: null, GroupAdd: null, IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false,
      SecurityOpt: null, UTSMode: '', UsernsMode: '', ShmSize: 0, Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0,
      BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0,
      CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0,
      MemorySwap: 0, MemorySwappiness: -1, OomKillDisable: false, PidsLimit: 0, Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
      MaskedPaths: null, ReadonlyPaths: null,
    },
    NetworkingConfig: { EndpointsConfig: {} },
  };
}

/** What no allowed create may carry, whatever the job sent: the containment the endpoint promises. */
function expectContained(value: { name: string; body: Record<string, unknown> }): void {
  expect(value.name.startsWith(`${scope.runnerName}-`)).toBe(true);
  const body = value.body;
  const hc = body['HostConfig'] as Record<string, unknown>;
  const labels = body['Labels'] as Record<string, string>;
  expect(labels[JOB_LABEL.of]).toBe(scope.runnerName);
  expect(labels[JOB_LABEL.deployment]).toBe(scope.deploymentId);
  expect(Object.keys(labels).filter((k) => k.toLowerCase().startsWith('io.runnerhub.')).sort()).toEqual([JOB_LABEL.deployment, JOB_LABEL.of].sort());
  // Docker matches keys without regard to case: every spelling of a dangerous field must be zero.
  const dangerous = new Set(['privileged', 'capadd', 'devices', 'devicerequests', 'devicecgrouprules', 'pidmode', 'utsmode', 'usernsmode', 'portbindings', 'publishallports', 'runtime', 'cgroupparent', 'volumesfrom', 'links', 'sysctls', 'volumedriver', 'cgroup', 'ulimits', 'oomkilldisable', 'maskedpaths', 'readonlypaths', 'isolation']);
  for (const [k, v] of Object.entries(hc)) if (dangerous.has(k.toLowerCase())) expect(isZero(v), `HostConfig.${k}=${JSON.stringify(v)}`).toBe(true);
  for (const [k, v] of Object.entries(body)) if (['macaddress', 'networkdisabled'].includes(k.toLowerCase()) && k !== 'NetworkDisabled') expect(isZero(v)).toBe(true);
  for (const object of [body, hc, ...(((hc['Mounts'] as object[]) ?? []) as Array<Record<string, unknown>>)]) {
    const lower = Object.keys(object).map((k) => k.toLowerCase());
    expect(new Set(lower).size, `two spellings of one field in ${Object.keys(object).join(',')}`).toBe(lower.length);
  }
  for (const k of Object.keys(hc)) if (['networkmode', 'binds', 'mounts', 'memory', 'nanocpus', 'pidslimit', 'ipcmode', 'securityopt', 'memoryswap'].includes(k.toLowerCase())) expect(k, 'a second spelling of a checked field').toMatch(/^(NetworkMode|Binds|Mounts|Memory|NanoCpus|PidsLimit|IpcMode|SecurityOpt|MemorySwap)$/);
  expect(['', 'private', 'none', 'shareable', undefined]).toContain(hc['IpcMode']);
  expect([scope.network, 'none']).toContain(hc['NetworkMode']);
  expect(hc['Memory']).toBeGreaterThan(0);
  expect(hc['Memory']).toBeLessThanOrEqual(scope.limits.memoryBytes);
  expect(hc['MemorySwap']).toBe(hc['Memory']);
  expect(hc['NanoCpus']).toBeLessThanOrEqual(scope.limits.nanoCpus);
  expect(hc['PidsLimit']).toBeLessThanOrEqual(scope.limits.pidsLimit);
  expect(hc['PidsLimit']).toBeGreaterThan(0);
  for (const bind of (hc['Binds'] as string[]) ?? []) {
    const source = bind.split(':')[0]!;
    if (source.startsWith('/')) expect(source.startsWith(scope.workDirs[0]!.hostPath)).toBe(true);
    else expect(JOB_VOLUMES.has(source)).toBe(true);
    expect(bind).not.toContain('..');
  }
  for (const m of (hc['Mounts'] as Array<Record<string, unknown>>) ?? []) {
    if (m['Type'] === 'bind') expect((m['Source'] as string).startsWith(scope.workDirs[0]!.hostPath)).toBe(true);
    else if (m['Type'] === 'volume' && m['Source']) expect(JOB_VOLUMES.has(m['Source'] as string)).toBe(true);
    else expect(['volume', 'tmpfs']).toContain(m['Type']);
  }
  for (const o of (hc['SecurityOpt'] as string[] | null) ?? []) expect(o).toMatch(/^no-new-privileges/);
  const endpoints = Object.keys(((body['NetworkingConfig'] as Record<string, unknown>)['EndpointsConfig'] as Record<string, unknown>) ?? {});
  expect(endpoints).toEqual([hc['NetworkMode']]);
}

/** Keys a body may carry, in the spellings an attacker would try. */
const spellings = (k: string) => fc.constantFrom(k, k.toLowerCase(), k.toUpperCase(), k[0]!.toLowerCase() + k.slice(1));
const HOST_KEYS = ['Privileged', 'CapAdd', 'Devices', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'NetworkMode', 'Binds', 'Mounts', 'PortBindings', 'Runtime', 'CgroupParent', 'VolumesFrom', 'Links', 'Sysctls', 'SecurityOpt', 'Memory', 'NanoCpus', 'PidsLimit', 'ShmSize', 'Tmpfs', 'ExtraHosts', 'RestartPolicy', 'LogConfig', 'CgroupnsMode', 'Ulimits', 'OomKillDisable', 'DeviceRequests'];
const values = fc.oneof(
  fc.constantFrom(true, false, 0, '', null, [], {}, 'host', 'container:postgres', 'private', 'none', 'rh-docker-abc', 'rh-docker-abc-compose', 'bridge', ['SYS_ADMIN'], ['ALL'], ['seccomp=unconfined'], ['no-new-privileges'], 'sysbox-runc', ['/dev/sda:/dev/sda'], 2 ** 40, -1, 1024),
  fc.array(fc.constantFrom('/:/host', '/var/run/docker.sock:/var/run/docker.sock', '/home/runner/_work:/__w', '/home/runner/_work/_temp:/__w/_temp:ro', '/home/runner/_work/../../etc:/x', 'data:/data', 'rh-docker-xyz-data:/d', 'nextcloud:/n', '/home/runner/_work/x:/y:rshared', '/proc:/p'), { maxLength: 3 }),
  fc.array(fc.record({ Type: fc.constantFrom('bind', 'volume', 'tmpfs', 'npipe'), Source: fc.constantFrom('', '/', '/home/runner/_work', 'data', 'other', '/var/run/docker.sock'), Target: fc.constantFrom('/x', 'rel') }, { requiredKeys: ['Type', 'Target'] }), { maxLength: 2 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const hostConfigs = fc.array(fc.tuple(fc.constantFrom(...HOST_KEYS).chain(spellings), values), { maxLength: 5 }).map((entries) => Object.fromEntries(entries));
const bodies = fc.record({
  hc: hostConfigs,
  labels: fc.dictionary(fc.constantFrom('a', 'io.runnerhub.job-of', 'IO.RUNNERHUB.MANAGED', 'io.runnerhub.deployment', 'org.opencontainers.x'), fc.string(), { maxKeys: 3 }),
  networking: fc.option(fc.record({ EndpointsConfig: fc.dictionary(fc.constantFrom('rh-docker-abc', 'host', 'compose', 'rh-other'), fc.record({ Aliases: fc.array(fc.constantFrom('postgres', 'db')), IPAMConfig: fc.constantFrom(undefined, { IPv4Address: '192.168.1.1' }) }, { requiredKeys: [] }), { maxKeys: 2 }) })),
  top: fc.dictionary(fc.constantFrom('User', 'MacAddress', 'macaddress', 'Env', 'hostconfig', 'Platform'), values, { maxKeys: 2 }),
});

describe('job-scoped creates', () => {
  it('a `docker run` of the docker CLI passes, with the job\'s labels, network and limits set', () => {
    const d = create(cliBody(), 'db');
    expect(d.allow).toBe(true);
    if (!d.allow) return;
    expect(d.value.name).toBe('rh-docker-abc-db');
    expectContained(d.value);
    expect(d.value.body['HostConfig']).toMatchObject({ NetworkMode: 'rh-docker-abc', Memory: scope.limits.memoryBytes, NanoCpus: 2e9, PidsLimit: 512 });
  });

  it('the stock runner\'s job container (work directory binds, a service alias) passes with its binds mapped into the work volume', () => {
    const body = cliBody();
    body.HostConfig['Binds'] = ['/home/runner/_work:/__w', '/home/runner/_work/_temp:/__w/_temp', '/home/runner/_work/_temp/_github_home:/github/home'];
    body['NetworkingConfig'] = { EndpointsConfig: { 'rh-docker-abc': { Aliases: ['postgres'] } } };
    body.HostConfig['NetworkMode'] = 'rh-docker-abc';
    const d = create(body, 'service-postgres');
    expect(d.allow).toBe(true);
    if (!d.allow) return;
    expect(d.value.body['HostConfig']).toMatchObject({ Binds: ['/var/lib/docker/volumes/rh-docker-abc-work/_data:/__w', '/var/lib/docker/volumes/rh-docker-abc-work/_data/_temp:/__w/_temp', '/var/lib/docker/volumes/rh-docker-abc-work/_data/_temp/_github_home:/github/home'] });
    expect(d.value.body['NetworkingConfig']).toEqual({ EndpointsConfig: { 'rh-docker-abc': { Aliases: ['service-postgres', 'postgres'] } } });
  });

  it("a network the job made is the job's network: the runner reaches services by name on it", () => {
    const body = cliBody();
    body.HostConfig['NetworkMode'] = 'compose';
    body['NetworkingConfig'] = { EndpointsConfig: { compose: { Aliases: ['db'] } } };
    const d = create(body, 'db');
    expect(d.allow && d.value.body['HostConfig']).toMatchObject({ NetworkMode: 'rh-docker-abc' });
    expect(d.allow && d.value.body['NetworkingConfig']).toEqual({ EndpointsConfig: { 'rh-docker-abc': { Aliases: ['db'] } } });
  });

  it('any create, however spelled, is either refused or contained (fast-check over arbitrary bodies)', () => {
    let allowed = 0;
    fc.assert(
      fc.property(bodies, fc.option(fc.constantFrom('db', '/web', 'rh-docker-abc-x', 'rh-small-victim', 'bad name!')), (b, name) => {
        const body = cliBody();
        Object.assign(body.HostConfig, b.hc);
        body['Labels'] = b.labels;
        if (b.networking) body['NetworkingConfig'] = b.networking;
        Object.assign(body, b.top);
        const d = create(body, name);
        if (d.allow) {
          allowed++;
          expectContained(d.value);
        }
      }),
      { numRuns: 3000 },
    );
    // The property must see both answers, or it proves nothing about one of them.
    expect(allowed).toBeGreaterThan(30);
  });

  it('any JSON at all never crashes the filter, and what it allows is contained', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.option(fc.string()), (body, name) => {
        const d = create(body, name);
        if (d.allow) expectContained(d.value);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Every escape the issue lists that is a create, each refused with a reason a person can act on. */
const escapes: ReadonlyArray<[string, (b: ReturnType<typeof cliBody>) => void, RegExp]> = [
  ['privileged', (b) => (b.HostConfig['Privileged'] = true), /privileged containers are never allowed/],
  ['privileged in lower case', (b) => (b.HostConfig['privileged'] = true), /HostConfig.privileged is not one/],
  ['pid: host', (b) => (b.HostConfig['PidMode'] = 'host'), /PidMode "host"/],
  ['ipc: host', (b) => (b.HostConfig['IpcMode'] = 'host'), /IpcMode "host"/],
  ['network: host', (b) => (b.HostConfig['NetworkMode'] = 'host'), /NetworkMode "host"/],
  ["another container's network", (b) => (b.HostConfig['NetworkMode'] = 'container:rh-small-victim'), /another container's/],
  ["another job's network", (b) => (b.HostConfig['NetworkMode'] = 'rh-small-victim'), /is not the job's/],
  ['a bind of /', (b) => (b.HostConfig['Binds'] = ['/:/host']), /binding \/ is refused/],
  ['a bind of the Docker socket', (b) => (b.HostConfig['Binds'] = ['/var/run/docker.sock:/var/run/docker.sock']), /Docker socket is never handed/],
  ['the Docker socket through Mounts', (b) => (b.HostConfig['Mounts'] = [{ Type: 'bind', Source: '/run/docker.sock', Target: '/s' }]), /Docker socket/],
  ['a bind out of the work directory by ..', (b) => (b.HostConfig['Binds'] = ['/home/runner/_work/../../../etc:/etc2']), /refused/],
  ["another job's volume", (b) => (b.HostConfig['Binds'] = ['rh-small-victim-data:/d']), /not one this job made/],
  ["a host's volume", (b) => (b.HostConfig['Mounts'] = [{ Type: 'volume', Source: 'nextcloud_data', Target: '/d' }]), /not one this job made/],
  ['a volume with driver options (a host path in disguise)', (b) => (b.HostConfig['Mounts'] = [{ Type: 'volume', Source: 'data', Target: '/d', VolumeOptions: { DriverConfig: { Name: 'local', Options: { device: '/', o: 'bind' } } } }]), /driver options/],
  ['CapAdd', (b) => (b.HostConfig['CapAdd'] = ['SYS_ADMIN']), /CapAdd/],
  ['a device', (b) => (b.HostConfig['Devices'] = [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }]), /no host device/],
  ['a GPU request', (b) => (b.HostConfig['DeviceRequests'] = [{ Count: -1 }]), /no host device/],
  ['seccomp off', (b) => (b.HostConfig['SecurityOpt'] = ['seccomp=unconfined']), /SecurityOpt/],
  ['a runtime', (b) => (b.HostConfig['Runtime'] = 'runc'), /HostConfig.Runtime/],
  ['a host port', (b) => (b.HostConfig['PortBindings'] = { '5432/tcp': [{ HostPort: '5432' }] }), /publish ports on the host/],
  ['a cgroup parent', (b) => (b.HostConfig['CgroupParent'] = '/'), /CgroupParent/],
  ['sysctls', (b) => (b.HostConfig['Sysctls'] = { 'net.ipv4.ip_forward': '1' }), /Sysctls/],
  ['volumes from a runner', (b) => (b.HostConfig['VolumesFrom'] = ['rh-small-victim']), /VolumesFrom/],
  ['a restart policy', (b) => (b.HostConfig['RestartPolicy'] = { Name: 'always' }), /never restart/],
  ["RunnerHub's own labels", (b) => (b['Labels'] = { 'io.runnerhub.managed': 'true' }), /RunnerHub's own/],
  ['a fixed address', (b) => (b['NetworkingConfig'] = { EndpointsConfig: { 'rh-docker-abc': { IPAMConfig: { IPv4Address: '172.17.0.2' } } } }), /aliases, not addresses/],
  ['a userns host', (b) => (b.HostConfig['UsernsMode'] = 'host'), /UsernsMode/],
];

describe('each escape through a create is refused', () => {
  it.each(escapes)('%s', (_what, change, message) => {
    const body = cliBody();
    change(body);
    const d = create(body, 'x');
    expect(d.allow).toBe(false);
    expect(d.allow ? '' : d.reason).toMatch(message);
  });
});

describe('builds, pulls, volumes, networks and lists', () => {
  it('a build gets the job\'s labels, network, limits and a tag under the runner', () => {
    const d = checkJobBuild(new URLSearchParams({ t: 'app:1', dockerfile: 'Dockerfile', labels: '{"a":"b"}' }), scope);
    expect(d.allow).toBe(true);
    if (!d.allow) return;
    expect(d.value.getAll('t')).toEqual(['rh-docker-abc/app:1']);
    expect(JSON.parse(d.value.get('labels')!)).toEqual({ a: 'b', [JOB_LABEL.of]: scope.runnerName, [JOB_LABEL.deployment]: 'nas-1' });
    expect(d.value.get('networkmode')).toBe('rh-docker-abc');
    expect(d.value.get('memory')).toBe(String(scope.limits.memoryBytes));
  });

  it.each([
    ['--network host', { networkmode: 'host' }, /--network host is refused/],
    ['--network container:x', { networkmode: 'container:rh-small-victim' }, /refused/],
    ['a security.insecure entitlement', { allowinsecureentitlements: 'security.insecure' }, /insecure entitlements/],
    ['--security-opt', { securityopt: '["seccomp=unconfined"]' }, /not allowed/],
    ['BuildKit', { version: '2' }, /DOCKER_BUILDKIT=0/],
    ['a remote context', { remote: 'https://example.com/x.git' }, /remote/],
    ['labels of ours', { labels: '{"io.runnerhub.job-of":"rh-small-victim"}' }, /RunnerHub's own/],
  ])('a build with %s is refused', (_what, query, message) => {
    const d = checkJobBuild(new URLSearchParams(query as Record<string, string>), scope);
    expect(d.allow).toBe(false);
    expect(d.allow ? '' : d.reason).toMatch(message);
  });

  it('a build tagged as a runner image lands under the runner, never over the image the pools run', () => {
    const d = checkJobBuild(new URLSearchParams({ t: 'runnerhub/fake-runner:dev' }), scope);
    expect(d.allow && d.value.getAll('t')).toEqual(['rh-docker-abc/runnerhub/fake-runner:dev']);
  });

  it('a build tag over a runner image is refused even when spelled under the runner (protected patterns may be broad)', () => {
    expect(checkJobBuild(new URLSearchParams({ t: 'x' }), { ...scope, protectedImages: ['rh-docker-abc/*'] }).allow).toBe(false);
  });

  it('pulls never import and never replace a runner image', () => {
    expect(checkJobPull(new URLSearchParams({ fromImage: 'postgres', tag: '17' }), scope)).toEqual({ allow: true });
    expect(checkJobPull(new URLSearchParams({ fromSrc: '-' }), scope).allow).toBe(false);
    expect(checkJobPull(new URLSearchParams({ fromImage: 'runnerhub/fake-runner', tag: 'dev' }), scope).allow).toBe(false);
  });

  it('volumes and networks are named under the runner and labelled; driver options are refused', () => {
    expect(checkJobVolumeCreate({ Name: 'data', Labels: {} }, scope)).toMatchObject({ allow: true, value: { Name: 'rh-docker-abc-data' } });
    expect(checkJobVolumeCreate({ Name: 'data', DriverOpts: { type: 'none', o: 'bind', device: '/' } }, scope).allow).toBe(false);
    expect(checkJobNetworkCreate({ Name: 'github_network_1', Driver: 'bridge' }, scope)).toMatchObject({ allow: true, value: { Name: 'rh-docker-abc-github_network_1' } });
    expect(checkJobNetworkCreate({ Name: 'n', IPAM: { Config: [{ Subnet: '192.168.1.0/24' }] } }, scope).allow).toBe(false);
    expect(checkJobNetworkCreate({ Name: 'n', Driver: 'macvlan' }, scope).allow).toBe(false);
  });

  it('any filters a list asks for are narrowed to the job (fast-check)', () => {
    fc.assert(
      fc.property(fc.option(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string())), (raw) => {
        const d = scopeFilters(raw, scope);
        if (!d.allow) return;
        const labels = (JSON.parse(d.value) as { label: string[] }).label;
        expect(labels).toContain(`${JOB_LABEL.of}=${scope.runnerName}`);
        expect(labels).toContain(`${JOB_LABEL.deployment}=${scope.deploymentId}`);
      }),
      { numRuns: 500 },
    );
  });
});
