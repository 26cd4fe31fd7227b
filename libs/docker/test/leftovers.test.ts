import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DOCKER_PROXY_URL, ensureTestImage, waitFor } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient, LABEL, watchLeftovers, type LeftoverWatch } from '../src/index.js';

const run = promisify(execFile);
// Through the socket proxy, as the e2e harness and the demo use it; volumes are removed with the CLI.
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));
// Its containers are not runner specs (the socket guard would refuse them): made on the socket itself.
const raw = createDockerClient('unix:///var/run/docker.sock');
const deployment = `leftovers-${randomBytes(4).toString('hex')}`;
let image = '';
let watch: LeftoverWatch;
const made: string[] = [];

const create = async (name: string, start: boolean) => {
  // An anonymous volume, as every runner container has one for its JIT file.
  const c = await raw.createContainer({ name, Image: image, Cmd: ['true'], Labels: { [LABEL.managed]: 'true', [LABEL.deployment]: deployment }, Volumes: { '/jit': {} } });
  made.push(name);
  if (start) {
    await c.start();
    await c.wait();
  }
  return c;
};

beforeAll(async () => {
  image = await ensureTestImage();
  watch = await watchLeftovers(docker, { deployment });
}, 120_000);

afterAll(async () => {
  const volumes = [...watch.volumesSeen().keys()];
  watch.stop();
  for (const name of made) await docker.getContainer(name).remove({ force: true, v: true }).catch(() => undefined);
  for (const v of volumes) await run('docker', ['volume', 'rm', '-f', v]).catch(() => undefined);
});

describe('what a deployment leaves behind in Docker', () => {
  it('finds the anonymous volume of a container removed without -v, and nothing once removed with it', async () => {
    const leaky = await create(`${deployment}-leaky`, true);
    const never = await create(`${deployment}-never-started`, false);
    const tidy = await create(`${deployment}-tidy`, true);
    await waitFor(() => watch.volumesSeen().size === 3, { what: 'the three containers\' volumes seen', timeoutMs: 10_000 });
    expect((await watch.leftovers()).containers).toHaveLength(3);
    // Volumes of containers that still exist are theirs, not left behind.
    expect((await watch.leftovers()).volumes).toEqual([]);

    const leakyVolume = [...watch.volumesSeen()].find(([, c]) => c === leaky.id)![0];
    const neverVolume = [...watch.volumesSeen()].find(([, c]) => c === never.id)![0];
    await leaky.remove({ force: true });
    await never.remove({ force: true });
    await tidy.remove({ force: true, v: true });
    await waitFor(async () => (await watch.leftovers()).volumes.length === 2, { what: 'the two volumes left behind', timeoutMs: 10_000 });
    expect(await watch.leftovers()).toEqual({ containers: [], networks: [], volumes: [leakyVolume, neverVolume].sort() });

    await run('docker', ['volume', 'rm', leakyVolume, neverVolume]);
    await waitFor(async () => (await watch.leftovers()).volumes.length === 0, { what: 'the volumes gone once removed', timeoutMs: 10_000 });
  }, 60_000);
});
