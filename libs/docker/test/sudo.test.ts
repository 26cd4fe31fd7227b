import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DOCKER_PROXY_URL, repoRoot } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient, demuxLogLines, planRunnerContainer, SUDO_CAPABILITIES } from '../src/index.js';
import { baseRequest } from './fixtures.js';

// Real sudo (Debian's 1.9, in the stand-in for the official runner image) in containers made from
// the runner spec, through the socket proxy: what SUDO_CAPABILITIES claims is measured here.
const run = promisify(execFile);
const IMAGE = 'runnerhub/actions-runner:dev';
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));
const suffix = randomBytes(3).toString('hex');
const deploymentId = `test-sudo-${suffix}`;
let count = 0;

beforeAll(async () => {
  await run('bash', [`${repoRoot}scripts/build-actions-runner-image.sh`, IMAGE]);
}, 300_000);

afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: { label: [`io.runnerhub.deployment=${deploymentId}`] } })) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
});

/** Runs `script` as the runner user in a container of the spec (sudo or not, CapAdd overridden if given). */
async function inRunner(script: string, options: { sudo: boolean; capAdd?: string[] }): Promise<{ code: number; log: string }> {
  const name = `rh-sudo-${suffix}-${count++}`;
  const { spec } = planRunnerContainer({ ...baseRequest, deploymentId, runnerId: name, runnerName: name, image: IMAGE, command: ['/bin/bash', '-c', script], env: {}, cacheVolumes: [], networkName: 'bridge', memoryBytes: 256 * 1024 ** 2, sudo: options.sudo });
  if (options.capAdd) spec.HostConfig!.CapAdd = options.capAdd;
  const container = await docker.createContainer(spec);
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  const log = demuxLogLines(await container.logs({ stdout: true, stderr: true }), 200).join('\n');
  await container.remove({ v: true });
  return { code: StatusCode, log };
}

// What people run with sudo in a step, one check a line: become root, write a system file, give it
// an owner, write where only the runner may, change the mode of the runner's file, set a set-gid bit.
const STEP = [
  'mkdir /tmp/private && chmod 700 /tmp/private && touch /tmp/mine',
  'sudo -n true && echo OK-sudo',
  `sudo -n sh -c 'echo x > /etc/rh-test' && echo OK-write-etc`,
  `sudo -n chown runner:docker /etc/rh-test && echo OK-chown`,
  `sudo -n sh -c 'echo y > /tmp/private/f' && echo OK-dac`,
  `sudo -n chmod 600 /tmp/mine && echo OK-fowner`,
  `sudo -n chmod 2755 /etc/rh-test && test -g /etc/rh-test && echo OK-fsetid`,
].join('\n');
const CHECKS = ['OK-sudo', 'OK-write-etc', 'OK-chown', 'OK-dac', 'OK-fowner', 'OK-fsetid'];
const passed = (log: string) => CHECKS.filter((c) => log.includes(c));

describe('sudo under the runner spec', () => {
  it('without the pool setting, sudo is refused by no-new-privileges, and says so', async () => {
    const { log } = await inRunner(STEP, { sudo: false });
    expect(passed(log)).toEqual([]);
    expect(log).toContain('The "no new privileges" flag is set, which prevents sudo from running as root');
  }, 60_000);

  it('with sudo: true, every such step works, and sudo is quiet', async () => {
    const { log } = await inRunner(STEP, { sudo: true });
    expect(passed(log)).toEqual(CHECKS);
    expect(log).not.toMatch(/sudo: /);
  }, 60_000);

  // Each capability of the set, taken away alone, breaks exactly what it is there for.
  it.each([
    ['SETUID', ['OK-sudo', 'OK-write-etc', 'OK-chown', 'OK-dac', 'OK-fowner', 'OK-fsetid'], /sudo: /],
    ['SETGID', ['OK-sudo', 'OK-write-etc', 'OK-chown', 'OK-dac', 'OK-fowner', 'OK-fsetid'], /unable to change to root gid/],
    ['AUDIT_WRITE', [], /unable to send audit message/],
    ['CHOWN', ['OK-chown'], /Operation not permitted/],
    ['DAC_OVERRIDE', ['OK-dac'], /Permission denied/],
    ['FOWNER', ['OK-fowner', 'OK-fsetid'], /Operation not permitted/],
    ['FSETID', ['OK-fsetid'], /^/],
  ] as const)('without %s', async (cap, lost, said) => {
    const { log } = await inRunner(STEP, { sudo: true, capAdd: SUDO_CAPABILITIES.filter((c) => c !== cap) });
    expect(CHECKS.filter((c) => !log.includes(c))).toEqual(lost);
    expect(log).toMatch(said);
  }, 60_000);
});
