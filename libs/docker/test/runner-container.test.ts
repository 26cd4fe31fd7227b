import { randomBytes } from 'node:crypto';
import { DOCKER_PROXY_URL, ensureTestImage } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient, dockerStatus, jitArchive, JIT_DIR, LABEL, ownershipLabels, runnerContainerSpec } from '../src/index.js';

// Through the real HAProxy socket proxy (deploy/socket-proxy/haproxy.cfg), never the raw socket.
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));
const suffix = randomBytes(4).toString('hex');
const network = `rh-test-${suffix}`;
const ownership = { deploymentId: `test-${suffix}`, host: 'test', pool: 'p', runnerId: `r-${suffix}`, runnerName: `rh-p-${suffix}`, jobId: '42' };
let image = '';

beforeAll(async () => {
  image = await ensureTestImage();
  await docker.createNetwork({ Name: network, Labels: ownershipLabels(ownership) });
}, 120_000);

afterAll(async () => {
  await docker.getContainer(ownership.runnerName).remove({ force: true, v: true }).catch(() => undefined);
  await docker.getNetwork(network).remove().catch(() => undefined);
});

describe('a runner container through the socket proxy', () => {
  it('gets its JIT config as a file that never shows in docker inspect and is gone once it runs', async () => {
    const jitConfig = `jit-${randomBytes(16).toString('hex')}`;
    const spec = runnerContainerSpec({
      ...ownership,
      image,
      command: ['sh', '-c', 'echo "input=$ACTIONS_RUNNER_INPUT_JITCONFIG"; echo "files=$(ls -A /run/runnerhub/jit)"'],
      env: { RUNNERHUB_POOL: 'p' },
      cpus: 0.5,
      memoryBytes: 128 * 1024 ** 2,
      pidsLimit: 64,
      cacheVolumes: [],
      networkName: network,
      dockerInJob: 'none',
      readOnlyRoot: true,
    });
    const container = await docker.createContainer(spec);
    await container.putArchive(await jitArchive(jitConfig, { uid: 1001, gid: 1001 }), { path: JIT_DIR });
    const inspected = await container.inspect();
    expect(JSON.stringify(inspected)).not.toContain(jitConfig);
    expect(inspected.HostConfig).toMatchObject({ Privileged: false, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges:true'], ReadonlyRootfs: true, PidsLimit: 64 });
    expect(inspected.Mounts.some((m) => (m as { Source?: string }).Source?.includes('docker.sock'))).toBe(false);
    expect(inspected.Config.Labels[LABEL.deployment]).toBe(ownership.deploymentId);

    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    expect(StatusCode).toBe(0);
    expect(logs).toContain(`input=${jitConfig}`);
    expect(logs).toMatch(/files=\s*$/m);
    expect(JSON.stringify(await container.inspect())).not.toContain(jitConfig);
    await container.remove({ v: true });
  });

  it('denies exec and build at the proxy', async () => {
    // Not a runner spec (the guard refuses those at create): made on the socket itself, with our labels.
    const created = await createDockerClient('unix:///var/run/docker.sock').createContainer({ Image: image, Cmd: ['sleep', '30'], Labels: ownershipLabels({ ...ownership, runnerName: `x-${suffix}` }) });
    const container = docker.getContainer(created.id);
    try {
      await container.start();
      const exec = await container.exec({ Cmd: ['id'] }).then(
        () => 'allowed',
        (error: unknown) => dockerStatus(error),
      );
      expect(exec).toBe(403);
      const build = await docker.buildImage(Buffer.alloc(1024) as never, { t: 'nope' }).then(
        () => 'allowed',
        (error: unknown) => dockerStatus(error),
      );
      expect(build).toBe(403);
    } finally {
      await container.remove({ force: true, v: true });
    }
  });
});
