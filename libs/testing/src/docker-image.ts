import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A tiny image for container tests: busybox-static, user `runner` (1001), no registry needed. */
export const TEST_IMAGE = 'runnerhub/test-busybox:1';

const APPLETS = ['sh', 'cat', 'rm', 'sleep', 'echo', 'head', 'dd', 'ls', 'id', 'env', 'true', 'false', 'yes', 'tail', 'printf', 'test', 'mkdir'];

/**
 * Builds TEST_IMAGE with `docker import` unless it exists. Needs the docker CLI (Debian docker.io)
 * and /bin/busybox (Debian busybox-static, installed here when missing: the machines are root).
 */
export async function ensureTestImage(): Promise<string> {
  try {
    await run('docker', ['image', 'inspect', TEST_IMAGE]);
    return TEST_IMAGE;
  } catch {
    // not built yet
  }
  if (!existsSync('/bin/busybox')) {
    // A fresh machine may have no package lists yet.
    await run('sh', ['-c', 'apt-get install -y -q busybox-static || { apt-get update -q && apt-get install -y -q busybox-static; }'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  const root = mkdtempSync(join(tmpdir(), 'rh-test-image-'));
  try {
    for (const dir of ['bin', 'etc', 'tmp', 'run', 'home/runner']) mkdirSync(join(root, dir), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nrunner:x:1001:1001:runner:/home/runner:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nrunner:x:1001:\n');
    chmodSync(join(root, 'tmp'), 0o1777);
    await run('sh', [
      '-c',
      `chown -R 1001:1001 "$0/home/runner" && tar -C "$0" --numeric-owner -c . | docker import --change 'USER runner' --change 'WORKDIR /home/runner' --change 'ENV PATH=/bin' - "$1" >/dev/null`,
      root,
      TEST_IMAGE,
    ]);
    return TEST_IMAGE;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
