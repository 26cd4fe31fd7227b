import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient, dockerStatus, jitArchive, JIT_DIR, LABEL, ownershipLabels, planRunnerContainer, type RunnerContainerRequest } from '@runnerhub/docker';
import { createLogger } from '@runnerhub/platform';
import { ensureTestImage } from '@runnerhub/testing';
import { createGuardServer, type GuardServer } from '../src/index.js';

// The guard in front of this machine's real Docker, on a port of its own, serving a deployment of
// this test's own. Fixtures the guard must protect (a container that is not RunnerHub's, one of
// another deployment) are made on the raw socket, as someone else on the NAS would make them.
const suffix = randomBytes(4).toString('hex');
const DEPLOYMENT = `guard-test-${suffix}`;
const TEST_LABEL = 'io.runnerhub.test-run';
const raw = createDockerClient('unix:///var/run/docker.sock');
let guard: GuardServer;
let base = '';
let docker: ReturnType<typeof createDockerClient>;
let image = '';
const refusals: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    refusals.push(chunk.toString('utf8'));
    done();
  },
});

const request0: RunnerContainerRequest = {
  deploymentId: DEPLOYMENT,
  host: 'test',
  pool: 'p',
  runnerId: 'r',
  runnerName: `rh-p-${suffix}`,
  jobId: '0',
  image: '',
  command: ['sh', '-c', 'echo "jit=$ACTIONS_RUNNER_INPUT_JITCONFIG"; sleep 30'],
  env: {},
  cpus: 0.5,
  memoryBytes: 128 * 1024 ** 2,
  pidsLimit: 64,
  cacheVolumes: [{ name: `rh-cache-${suffix}`, mountPath: '/home/runner/.cache', readOnly: false }],
  networkName: `rh-net-${suffix}`,
  dockerInJob: 'none',
  readOnlyRoot: true,
};

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const url = new URL(base);
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers }, timeout: 20_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const ours = (): Promise<string[]> => raw.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`] } }).then((cs) => cs.map((c) => c.Names[0]!.slice(1)));

beforeAll(async () => {
  image = await ensureTestImage();
  request0.image = image;
  guard = createGuardServer({
    policy: { deployments: [DEPLOYMENT], namePrefix: 'rh-', images: ['runnerhub/*'], volumes: ['rh-cache-*'], sudoPools: ['sudo'] },
    dockerSocket: '/var/run/docker.sock',
    bodyLimitBytes: 1024 * 1024,
    log: createLogger({ service: 'socket-guard-test', level: 'warn', destination: logStream }),
  });
  base = `http://${await guard.listen('127.0.0.1', 0)}`;
  docker = createDockerClient(base.replace(/^http:/, 'tcp:'));
}, 120_000);

afterAll(async () => {
  await guard?.close();
  for (const c of await raw.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${suffix}`] } })) await raw.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  for (const c of await raw.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`] } })) await raw.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  for (const n of await raw.listNetworks({ filters: { label: [`${TEST_LABEL}=${suffix}`] } })) await raw.getNetwork(n.Id).remove().catch(() => undefined);
  for (const n of await raw.listNetworks({ filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`] } })) await raw.getNetwork(n.Id).remove().catch(() => undefined);
  await raw.getVolume(`rh-cache-${suffix}`).remove().catch(() => undefined);
});

describe('what the executor does passes through the guard', () => {
  it('network, create from the template, JIT archive, start, inspect, logs, stats, stop, remove', async () => {
    await docker.createNetwork({ Name: request0.networkName, Driver: 'bridge', CheckDuplicate: true, Labels: ownershipLabels({ ...request0, runnerId: '', runnerName: '', jobId: '0' }) });
    expect((await docker.getNetwork(request0.networkName).inspect()) as { Name: string }).toMatchObject({ Name: request0.networkName });
    const { spec } = planRunnerContainer(request0);
    const container = await docker.createContainer(spec);
    await container.putArchive(await jitArchive('jit-secret', { uid: 1001, gid: 1001 }), { path: JIT_DIR });
    await container.start();
    const inspected = await container.inspect();
    expect(inspected.HostConfig).toMatchObject({ Privileged: false, CapDrop: ['ALL'], ReadonlyRootfs: true });
    expect((await docker.listImages()).length).toBeGreaterThan(0);
    expect((await docker.getImage(image).inspect()).Id).toMatch(/^sha256:/);
    await docker.getContainer(container.id).stats({ stream: false });
    await container.stop({ t: 1 });
    const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    expect(logs).toContain('jit=jit-secret');
    await container.remove({ force: true, v: true });
    await docker.getNetwork(request0.networkName).remove();
    // Gone is Docker's 404, as the executor expects.
    expect(dockerStatus(await docker.getContainer(container.id).inspect().catch((e: unknown) => e))).toBe(404);
    expect(dockerStatus(await docker.getNetwork(request0.networkName).inspect().catch((e: unknown) => e))).toBe(404);
  });

  it('the event feed streams through the guard', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const name = `rh-p-ev-${suffix}`;
    const feed = await docker.getEvents({ since, filters: { type: ['container'], label: [`${LABEL.runnerName}=${name}`] } });
    const first = new Promise<string>((resolve) => feed.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
    const c = await docker.createContainer(planRunnerContainer({ ...request0, runnerName: name, runnerId: 'ev', networkName: 'none', cacheVolumes: [] }).spec);
    try {
      expect(JSON.parse((await first).split('\n')[0]!)).toMatchObject({ Type: 'container', Action: 'create' });
    } finally {
      (feed as unknown as { destroy(): void }).destroy();
      await c.remove({ force: true });
    }
  });
});

type Body = Record<string, unknown> & { HostConfig: Record<string, unknown>; Labels: Record<string, string> };

describe('every escape of the outside test is refused with a 403 and nothing is created', () => {
  const escapes: ReadonlyArray<[string, (b: Body) => void]> = [
    ['privileged', (b) => (b.HostConfig['Privileged'] = true)],
    ['bind of /', (b) => (b.HostConfig['Binds'] = ['/:/host'])],
    ['bind of the Docker socket', (b) => (b.HostConfig['Binds'] = ['/var/run/docker.sock:/var/run/docker.sock'])],
    ['bind mount', (b) => (b.HostConfig['Mounts'] = [{ Type: 'bind', Source: '/', Target: '/host' }])],
    ['host network', (b) => (b.HostConfig['NetworkMode'] = 'host')],
    ['host pid', (b) => (b.HostConfig['PidMode'] = 'host')],
    ['host ipc', (b) => (b.HostConfig['IpcMode'] = 'host')],
    ['host uts', (b) => (b.HostConfig['UTSMode'] = 'host')],
    ['host userns', (b) => (b.HostConfig['UsernsMode'] = 'host')],
    ['host cgroupns', (b) => (b.HostConfig['CgroupnsMode'] = 'host')],
    ['CapAdd SYS_ADMIN', (b) => (b.HostConfig['CapAdd'] = ['SYS_ADMIN'])],
    ['sudo capabilities for a pool that is not allowed sudo', (b) => ((b.HostConfig['CapAdd'] = ['SETUID', 'SETGID']), (b.HostConfig['SecurityOpt'] = []))],
    ['a device', (b) => (b.HostConfig['Devices'] = [{ PathOnHost: '/dev/mem', PathInContainer: '/dev/mem', CgroupPermissions: 'rwm' }])],
    ['seccomp unconfined', (b) => (b.HostConfig['SecurityOpt'] = ['no-new-privileges:true', 'seccomp=unconfined'])],
    ['apparmor unconfined', (b) => (b.HostConfig['SecurityOpt'] = ['no-new-privileges:true', 'apparmor=unconfined'])],
    ["another deployment's labels", (b) => (b.Labels[LABEL.deployment] = `${DEPLOYMENT}-other`)],
    ['no RunnerHub labels', (b) => (b['Labels'] = { [TEST_LABEL]: suffix })],
    ['privileged in lower case', (b) => (b.HostConfig['privileged'] = true)],
    ['an image no pool names', (b) => (b['Image'] = 'busybox:latest')],
    ['a volume that is not a cache volume', (b) => (b.HostConfig['Mounts'] = [{ Type: 'volume', Source: 'postgres-data', Target: '/data' }])],
  ];

  it.each(escapes.map(([what, change], i) => [what, change, i] as const))('%s', async (_what, change, i) => {
    const name = `rh-p-esc${i}-${suffix}`;
    const body = JSON.parse(JSON.stringify(planRunnerContainer({ ...request0, runnerName: name, runnerId: `esc${i}`, networkName: 'none' }).spec)) as Body;
    body.Labels[TEST_LABEL] = suffix;
    delete body.Labels[TEST_LABEL];
    change(body);
    const answer = await call('POST', `/v1.41/containers/create?name=${name}`, body);
    expect(answer.status).toBe(403);
    expect((JSON.parse(answer.text) as { message: string }).message).toMatch(/^runnerhub socket-guard: /);
    expect(await raw.listContainers({ all: true, filters: { name: [name] } })).toEqual([]);
  });

  it('a name without the prefix, dockerode style (the whole body in the query too)', async () => {
    const { spec } = planRunnerContainer({ ...request0, runnerName: `nas-app-${suffix}`, networkName: 'none' });
    expect(dockerStatus(await docker.createContainer(spec).catch((e: unknown) => e))).toBe(403);
  });

  it('image import over the runner image tag, and a pull of an image no pool names', async () => {
    const before = (await raw.getImage(image).inspect()).Id;
    const [repo, tag] = image.split(':') as [string, string];
    const imported = await call('POST', `/images/create?fromSrc=-&repo=${encodeURIComponent(repo)}&tag=${tag}`, 'not a tar', { 'content-type': 'application/x-tar' });
    expect(imported.status).toBe(403);
    expect(imported.text).toMatch(/importing an image \(fromSrc\)/);
    expect((await raw.getImage(image).inspect()).Id).toBe(before);
    const pulled = await call('POST', '/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=3');
    expect(pulled.status).toBe(403);
    expect(pulled.text).toMatch(/not one the pools name/);
  });

  it('nothing of this test was created, by its deployment label', async () => {
    expect(await ours()).toEqual([]);
  });
});

describe('containers and networks that are not this deployment’s are refused for every verb', () => {
  const foreign: Array<{ what: string; id: string }> = [];
  beforeAll(async () => {
    const unlabelled = await raw.createContainer({ name: `nas-app-${suffix}`, Image: image, Cmd: ['sleep', '60'], Labels: { [TEST_LABEL]: suffix } });
    const other = await raw.createContainer({
      name: `rh-p-other-${suffix}`,
      Image: image,
      Cmd: ['sleep', '60'],
      Labels: { ...ownershipLabels({ ...request0, deploymentId: `${DEPLOYMENT}-other`, runnerName: `rh-p-other-${suffix}` }), [TEST_LABEL]: suffix },
    });
    foreign.push({ what: 'not RunnerHub', id: unlabelled.id }, { what: 'another deployment', id: other.id });
  });

  const verbs: ReadonlyArray<[string, string, string]> = [
    ['inspect', 'GET', '/json'],
    ['logs', 'GET', '/logs?stdout=1'],
    ['stats', 'GET', '/stats?stream=false'],
    ['start', 'POST', '/start'],
    ['stop', 'POST', '/stop'],
    ['kill', 'POST', '/kill'],
    ['wait', 'POST', '/wait'],
    ['delete', 'DELETE', '?force=1&v=1'],
    ['archive put', 'PUT', `/archive?path=${encodeURIComponent(JIT_DIR)}`],
    ['archive get', 'GET', '/archive?path=/etc'],
    ['exec', 'POST', '/exec'],
    ['attach', 'POST', '/attach?stream=1&stdout=1'],
    ['export', 'GET', '/export'],
    ['restart', 'POST', '/restart'],
  ];

  it.each(verbs.map(([what, method, rest]) => [what, method, rest] as const))('%s', async (_what, method, rest) => {
    for (const target of foreign) {
      for (const id of [target.id, (await raw.getContainer(target.id).inspect()).Name.slice(1)]) {
        const answer = await call(method, `/v1.43/containers/${id}${rest}`, method === 'POST' && rest === '/exec' ? { Cmd: ['id'] } : undefined);
        expect(answer.status, `${method} ${rest} on ${target.what}`).toBe(403);
        expect(answer.text).toMatch(/runnerhub socket-guard/);
      }
    }
  });

  it('they are untouched afterwards: still there, never started', async () => {
    for (const target of foreign) expect((await raw.getContainer(target.id).inspect()).State).toMatchObject({ Status: 'created', Running: false });
  });

  it('an attach upgrade is refused before it reaches Docker', async () => {
    const answer = await call('POST', `/containers/${foreign[0]!.id}/attach?stream=1`, undefined, { connection: 'Upgrade', upgrade: 'tcp' });
    expect(answer.status).toBe(403);
    expect(answer.text).toMatch(/upgrades/);
  });

  it('a network that is not ours cannot be inspected, removed, connected or disconnected', async () => {
    const net = await raw.createNetwork({ Name: `nas-net-${suffix}`, Labels: { [TEST_LABEL]: suffix } });
    for (const [method, rest] of [['GET', ''], ['DELETE', ''], ['POST', '/connect'], ['POST', '/disconnect']] as const) {
      expect((await call(method, `/networks/${net.id}${rest}`, method === 'POST' ? { Container: foreign[0]!.id } : undefined)).status).toBe(403);
    }
    expect((await raw.getNetwork(net.id).inspect()) as { Id: string }).toMatchObject({ Id: net.id });
  });

  it('every refusal was logged with its reason', () => {
    expect(refusals.join('')).toMatch(/"route":"container stop","reason":"container stop on container [^,]* refused: it does not carry the label io.runnerhub.managed=true/);
  });
});
