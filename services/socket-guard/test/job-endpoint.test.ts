import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient, JOB_DOCKER_DIR, jobDockerVolumes, LABEL, planRunnerContainer, RUNNER_WORK_DIR, type RunnerContainerRequest } from '@runnerhub/docker';
import { JOB_LABEL } from '@runnerhub/docker-guard';
import { createLogger } from '@runnerhub/platform';
import { waitFor } from '@runnerhub/testing';
import { createJobEndpoints, type JobEndpoints } from '../src/index.js';

// A scoped runner on this machine's real Docker (made on the raw socket as the executor makes it,
// from planRunnerContainer with dockerInJob: scoped), the host's job endpoints watching it, and the
// docker CLI talking to the runner's socket as a job's steps would. Every escape of issue 23 is tried
// and must fail with nothing created; the job's own run, build, exec and service by name must work;
// and when the runner goes, everything its job made goes with it.
const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');
const DEPLOYMENT = `jobep-test-${suffix}`;
const RUNNER = `rh-jt-${suffix}`;
const OTHER = `rh-jo-${suffix}`;
/** A container another scoped runner's job made. */
const VICTIM = `${OTHER}-victim`;
const NETWORK = `rh-jt-${suffix}`;
const IMAGE = 'runnerhub/test-busybox-full:1';
const raw = createDockerClient('unix:///var/run/docker.sock');
let endpoints: JobEndpoints;
let socket = '';
const refusals: string[] = [];
const made: Array<() => Promise<unknown>> = [];

/** busybox-static with every applet (httpd, nc, wget, nslookup): a server and a client without a registry. */
async function ensureFullBusybox(): Promise<void> {
  try {
    await run('docker', ['image', 'inspect', IMAGE]);
    return;
  } catch {
    /* build it */
  }
  if (!existsSync('/bin/busybox')) await run('sh', ['-c', 'apt-get install -y -q busybox-static || { apt-get update -q && apt-get install -y -q busybox-static; }']);
  const root = mkdtempSync(join(tmpdir(), 'rh-busybox-full-'));
  try {
    for (const dir of ['bin', 'etc', 'tmp', 'www']) mkdirSync(join(root, dir), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    const { stdout } = await run('/bin/busybox', ['--list']);
    for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) symlinkSync('busybox', join(root, 'bin', applet));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nrunner:x:1001:1001:runner:/home/runner:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nrunner:x:1001:\n');
    writeFileSync(join(root, 'www/index.html'), 'service answered\n');
    chmodSync(join(root, 'tmp'), 0o1777);
    await run('sh', ['-c', `tar -C "$0" --numeric-owner -c . | docker import --change 'ENV PATH=/bin' - "$1" >/dev/null`, root, IMAGE]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The docker CLI of the job's steps, against the job's endpoint. */
async function job(args: string[], input?: { cwd?: string }): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run('docker', ['-H', `unix://${socket}`, ...args], { cwd: input?.cwd, env: { ...process.env, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(tmpdir(), `rh-jt-docker-${suffix}`) }, timeout: 60_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

/** A raw Engine API call to the job's endpoint. */
function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: { message?: string } & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: socket, method, path, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as { message?: string }) : {} }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** What the job made, seen on the raw socket. */
async function jobObjects(): Promise<{ containers: string[]; networks: string[]; volumes: string[]; images: string[] }> {
  const filters = { label: [`${JOB_LABEL.of}=${RUNNER}`] };
  const [c, n, v, i] = await Promise.all([raw.listContainers({ all: true, filters }), raw.listNetworks({ filters }), raw.listVolumes({ filters }), raw.listImages({ filters })]);
  return { containers: c.map((x) => x.Names[0]!), networks: n.map((x) => x.Name), volumes: (v.Volumes ?? []).map((x) => x.Name), images: i.map((x) => x.Id) };
}
const nothingMade = { containers: [], networks: [], volumes: [], images: [] };

function runnerRequest(name: string): RunnerContainerRequest {
  return {
    deploymentId: DEPLOYMENT, host: 'test', pool: 'docker', runnerId: name, runnerName: name, jobId: '1', image: IMAGE, command: ['sleep', '600'], env: {},
    cpus: 1, memoryBytes: 256 * 1024 ** 2, pidsLimit: 128, cacheVolumes: [], networkName: NETWORK, dockerInJob: 'scoped', readOnlyRoot: false, ownNetwork: true,
  };
}

beforeAll(async () => {
  await ensureFullBusybox();
  await raw.createNetwork({ Name: NETWORK, Labels: { [LABEL.managed]: 'true', [LABEL.deployment]: DEPLOYMENT } });
  made.push(() => raw.getNetwork(NETWORK).remove());
  // A container of another job, and one that is not RunnerHub's at all: neither may be seen or touched.
  const other = await raw.createContainer(planRunnerContainer(runnerRequest(OTHER)).spec);
  await other.start();
  made.push(async () => {
    await other.remove({ force: true });
    for (const v of Object.values(jobDockerVolumes(OTHER))) await raw.getVolume(v).remove().catch(() => undefined);
  });
  const victim = await raw.createContainer({ name: VICTIM, Image: IMAGE, Cmd: ['sleep', '600'], Labels: { [JOB_LABEL.of]: OTHER, [JOB_LABEL.deployment]: DEPLOYMENT } });
  await victim.start();
  made.push(() => victim.remove({ force: true }));
  const foreign = await raw.createContainer({ name: `nextcloud-${suffix}`, Image: IMAGE, Cmd: ['sleep', '600'] });
  await foreign.start();
  made.push(() => foreign.remove({ force: true }));
  await raw.createVolume({ Name: `${OTHER}-data`, Labels: { [JOB_LABEL.of]: OTHER, [JOB_LABEL.deployment]: DEPLOYMENT } });
  made.push(() => raw.getVolume(`${OTHER}-data`).remove());

  endpoints = createJobEndpoints({
    deploymentId: DEPLOYMENT,
    dockerSocket: '/var/run/docker.sock',
    protectedImages: ['runnerhub/*'],
    log: createLogger({ service: 'job-endpoint-test', level: 'silent' }),
    onRefuse: (_runner, what, reason) => refusals.push(`${what}: ${reason}`),
  });
  await endpoints.start();
  const { spec } = planRunnerContainer(runnerRequest(RUNNER));
  const runner = await raw.createContainer(spec);
  made.push(async () => {
    await runner.remove({ force: true }).catch(() => undefined);
    for (const v of Object.values(jobDockerVolumes(RUNNER))) await raw.getVolume(v).remove().catch(() => undefined);
  });
  await runner.start();
  await waitFor(() => endpoints.open().has(RUNNER), { timeoutMs: 20_000, what: 'the job endpoint to open' });
  const mount = (await runner.inspect()).Mounts.find((m) => m.Destination === JOB_DOCKER_DIR)!;
  socket = `${mount.Source}/docker.sock`;
}, 120_000);

afterAll(async () => {
  await endpoints?.stop();
  // Whatever a failed test left of the job's.
  await endpoints?.cleanUp(RUNNER).catch(() => undefined);
  for (const undo of made.reverse()) await undo().catch(() => undefined);
}, 60_000);

describe('the runner spec of a scoped pool', () => {
  it('mounts the docker and work volumes, points DOCKER_HOST at the socket and is labelled scoped', async () => {
    const info = await raw.getContainer(RUNNER).inspect();
    expect(info.Config.Env).toContain(`DOCKER_HOST=unix://${JOB_DOCKER_DIR}/docker.sock`);
    expect(info.Config.Labels[LABEL.dockerInJob]).toBe('scoped');
    expect(info.Mounts.map((m) => m.Destination).sort()).toEqual([JOB_DOCKER_DIR, RUNNER_WORK_DIR, '/run/runnerhub'].sort());
  });
});

describe("a job's docker steps through its endpoint", () => {
  it('`docker run` runs on the job network with the pool limits and the job labels', async () => {
    const r = await job(['run', '--name', 'hello', IMAGE, 'sh', '-c', 'echo hello from a sibling']);
    expect(r.err).toBe('');
    expect(r.out).toContain('hello from a sibling');
    const info = await raw.getContainer(`${RUNNER}-hello`).inspect();
    expect(info.HostConfig.NetworkMode).toBe(NETWORK);
    expect(info.HostConfig.Memory).toBe(256 * 1024 ** 2);
    expect(info.HostConfig.NanoCpus).toBe(1e9);
    expect(info.HostConfig.PidsLimit).toBe(128);
    expect(info.Config.Labels[JOB_LABEL.of]).toBe(RUNNER);
    expect((await job(['rm', 'hello'])).code).toBe(0);
  });

  it('a service started as the runner starts one (its own network, an alias) is reached by name from a job container and from the runner', async () => {
    expect((await job(['network', 'create', 'github_network_1'])).code).toBe(0);
    const db = await job(['run', '-d', '--name', 'db', '--network', 'github_network_1', '--network-alias', 'postgres', IMAGE, 'httpd', '-f', '-p', '8080', '-h', '/www']);
    expect(db.code, db.err).toBe(0);
    const poll = (host: string) => `for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://${host}:8080/ && exit 0; sleep 0.5; done; exit 1`;
    const r = await job(['run', '--rm', '--network', 'github_network_1', IMAGE, 'sh', '-c', poll('postgres')]);
    expect(r.out).toContain('service answered');
    const exec = await raw.getContainer(RUNNER).exec({ Cmd: ['sh', '-c', poll('db')], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    let out = '';
    await new Promise((resolve) => stream.on('data', (c: Buffer) => (out += c.toString('utf8'))).on('end', resolve));
    expect(out).toContain('service answered');
  });

  it('`docker ps`, `exec` and `logs` see the job\'s containers, and only those', async () => {
    const ps = await job(['ps', '-a', '--format', '{{.Names}}']);
    expect(ps.out.split('\n').filter(Boolean)).toEqual([`${RUNNER}-db`]);
    expect((await job(['exec', 'db', 'cat', '/www/index.html'])).out).toContain('service answered');
    expect((await job(['inspect', '--format', '{{.Name}}', 'db'])).out.trim()).toBe(`/${RUNNER}-db`);
  });

  it('a step builds an image from a Dockerfile and runs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rh-jt-build-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${IMAGE}\nRUN echo built-in-a-job > /built.txt\nCMD ["cat", "/built.txt"]\n`);
      const b = await job(['build', '-t', 'app:1', '.'], { cwd: dir });
      expect(b.code, b.err).toBe(0);
      const r = await job(['run', '--rm', 'app:1']);
      expect(r.out).toContain('built-in-a-job');
      expect((await jobObjects()).images.length).toBeGreaterThan(0);
      // The tag is the job's: nobody else's `app:1` and no runner image was replaced.
      await expect(raw.getImage('app:1').inspect()).rejects.toThrow();
      expect((await raw.getImage(`${RUNNER}/app:1`).inspect()).Config.Labels?.[JOB_LABEL.of]).toBe(RUNNER);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a volume the job creates is its own and mounts by the name it gave', async () => {
    const created = await job(['volume', 'create', 'data']);
    expect(created.code, created.err).toBe(0);
    expect((await job(['run', '--rm', '-v', 'data:/d', IMAGE, 'sh', '-c', 'echo kept > /d/f && cat /d/f'])).out).toContain('kept');
    expect((await job(['volume', 'ls', '--format', '{{.Name}}'])).out.trim()).toBe(`${RUNNER}-data`);
  });

  it("the runner's work directory is handed to a job container as the stock runner binds it (/home/runner/_work → /__w)", async () => {
    await raw.getContainer(RUNNER).exec({ Cmd: ['sh', '-c', `echo from-the-runner > ${RUNNER_WORK_DIR}/marker`] }).then((e) => e.start({}).then((s) => new Promise((r) => s.on('end', r).resume())));
    const r = await job(['run', '--rm', '-v', `${RUNNER_WORK_DIR}:/__w`, IMAGE, 'cat', '/__w/marker']);
    expect(r.out).toContain('from-the-runner');
  });
});

/** Each escape the issue lists, as the job would try it with the docker CLI. Every one must fail, and the job must have made nothing new. */
const escapes: ReadonlyArray<[string, string[], RegExp]> = [
  ['a privileged container', ['run', '--rm', '--privileged', IMAGE, 'true'], /privileged containers are never allowed/],
  ['pid: host', ['run', '--rm', '--pid', 'host', IMAGE, 'true'], /PidMode "host"/],
  ['ipc: host', ['run', '--rm', '--ipc', 'host', IMAGE, 'true'], /IpcMode "host"/],
  ['network: host', ['run', '--rm', '--network', 'host', IMAGE, 'true'], /NetworkMode "host"/],
  ['a bind of /', ['run', '--rm', '-v', '/:/host', IMAGE, 'true'], /binding \/ is refused/],
  ['a bind of the Docker socket', ['run', '--rm', '-v', '/var/run/docker.sock:/var/run/docker.sock', IMAGE, 'true'], /Docker socket is never handed to a job/],
  ["a bind of another job's volume", ['run', '--rm', '-v', `${OTHER}-data:/d`, IMAGE, 'true'], /not one this job made/],
  ['CapAdd', ['run', '--rm', '--cap-add', 'SYS_ADMIN', IMAGE, 'true'], /CapAdd/],
  ['a device', ['run', '--rm', '--device', '/dev/null:/dev/x', IMAGE, 'true'], /no host device/],
  ['a host port', ['run', '--rm', '-p', '5432:5432', IMAGE, 'true'], /publish ports on the host/],
  ['seccomp off', ['run', '--rm', '--security-opt', 'seccomp=unconfined', IMAGE, 'true'], /SecurityOpt/],
  ["inspecting another job's container", ['container', 'inspect', VICTIM], /not this job's/],
  ["stopping another job's container", ['stop', VICTIM], /not this job's/],
  ["removing another job's container", ['rm', '-f', VICTIM], /not this job's/],
  ['stopping a container that is not RunnerHub\'s', ['stop', `nextcloud-${suffix}`], /not this job's/],
  ["exec into another job's container", ['exec', VICTIM, 'id'], /not this job's/],
  ["exec into the runner's own container", ['exec', RUNNER, 'id'], /not this job's/],
  ["a container on another container's network", ['run', '--rm', '--network', `container:${VICTIM}`, IMAGE, 'true'], /another container's/],
];

describe('every escape is refused with a clear error and nothing created', () => {
  it.each(escapes)('%s', async (_what, args, message) => {
    const before = await jobObjects();
    const r = await job(args);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/runnerhub job endpoint: /);
    expect(r.err).toMatch(message);
    expect(await jobObjects()).toEqual(before);
  });

  it('`docker build --network host` and a security.insecure entitlement are refused', async () => {
    const host = await api('POST', `/v1.41/build?t=x&networkmode=host`);
    expect(host.status).toBe(403);
    expect(host.json.message).toMatch(/--network host is refused/);
    const insecure = await api('POST', `/v1.41/build?t=x&allowinsecureentitlements=security.insecure`);
    expect(insecure.status).toBe(403);
    expect(insecure.json.message).toMatch(/insecure entitlements/);
    await expect(raw.getImage(`${RUNNER}/x:latest`).inspect()).rejects.toThrow();
  });

  it("the victim containers still run, untouched", async () => {
    expect((await raw.getContainer(VICTIM).inspect()).State.Running).toBe(true);
    expect((await raw.getContainer(`nextcloud-${suffix}`).inspect()).State.Running).toBe(true);
  });

  it('lists never show what is not the job\'s, whatever filter the job asks for', async () => {
    const listed = await api('GET', `/v1.41/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: [VICTIM] }))}`);
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual([]);
    const volumes = await job(['volume', 'ls', '-q']);
    expect(volumes.out).not.toContain(OTHER);
  });
});

describe('when the runner goes', () => {
  it('everything its job made is removed: containers, networks, volumes, images, and the runner\'s own volumes', async () => {
    expect((await job(['network', 'create', 'extra'])).code).toBe(0);
    const before = await jobObjects();
    expect(before.containers.length).toBeGreaterThan(0);
    expect(before.networks.length).toBeGreaterThan(0);
    await raw.getContainer(RUNNER).remove({ force: true });
    await waitFor(async () => JSON.stringify(await jobObjects()) === JSON.stringify(nothingMade) && !endpoints.open().has(RUNNER), { timeoutMs: 30_000, what: "the job's objects to be removed" });
    for (const v of Object.values(jobDockerVolumes(RUNNER))) await expect(raw.getVolume(v).inspect()).rejects.toThrow();
    expect((await raw.getContainer(VICTIM).inspect()).State.Running).toBe(true);
  }, 60_000);
});
