import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { repoRoot } from './service-process.js';
import { collectOutput, exitOf, supervise } from './supervised.js';
import { waitFor } from './wait-for.js';

/**
 * A second Docker host on this machine that really is another engine: a `dockerd` of its own (data
 * root, exec root, socket, containerd, bridge and address pool) in a network namespace of its own,
 * joined to the host namespace by a veth pair with private addresses the helper picks, and the
 * Docker socket proxy in front of it inside that namespace, as on a second NAS. A process started
 * with `spawn()` lives in the namespace: its loopback is the engine host's, and it reaches servers
 * of the host namespace only over the veth (`hostAddress`), as across a network.
 *
 * Everything is removed by `destroy()`, by the test process's exit, and by the next start of any
 * engine after a test process died without either (state under /tmp/rh-engine-<id>, owner pid).
 */

const run = promisify(execFile);
const STATE_PREFIX = 'rh-engine-';
const STATE_ROOT = '/tmp';
const DOCKERD_BIN = process.env.DOCKERD_BIN ?? '/usr/sbin/dockerd';
const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';
/** A dockerd on a loaded 2-core box can take half a minute to load its state after a kill. */
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;
/** The port of the socket proxy inside the engine's namespace (its own loopback: no clash). */
const PROXY_PORT = 2375;

export interface DockerEngineOptions {
  /** Put the data root on a tmpfs of this many MiB (a small disk to fill); default: on /tmp's disk. */
  dataRootMb?: number;
  /** dockerd --live-restore: containers keep running while the daemon restarts. */
  liveRestore?: boolean;
  /** Images copied in from the shared engine (`docker save | docker load`) before start() returns. */
  images?: readonly string[];
}

export interface DockerEngine {
  /** Short id; the namespace is `rh-engine-<id>`. */
  readonly id: string;
  readonly netns: string;
  /** The engine's own socket, for the test's inspection (never for the executor). */
  readonly socket: string;
  /** DOCKER_HOST for a process in the namespace: the socket proxy in front of this engine. */
  readonly proxyUrl: string;
  /** The host namespace's end of the veth: servers of the test are reached there from the engine's host. */
  readonly hostAddress: string;
  /** The engine host's end of the veth: its services listen here for the test. */
  readonly address: string;
  readonly dataRoot: string;
  /** Starts a process inside the namespace (nsenter --net: the same files, another network). */
  spawn(command: string, args: readonly string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string }): ChildProcess;
  /** `docker` CLI against this engine's socket. */
  docker(args: readonly string[]): Promise<string>;
  /** Copies images from the shared engine into this one. */
  loadImages(images: readonly string[]): Promise<void>;
  /** SIGTERM to dockerd and wait for it to end (containers stop unless liveRestore). */
  stop(): Promise<void>;
  /** SIGKILL to dockerd, as a crash; its containerd and shims stay, as they do on a real host. */
  kill(): Promise<void>;
  /** Starts dockerd again on the same data root; resolves once it answers /_ping. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** dockerd's log so far. */
  output(): string;
  /** Stops everything and removes namespace, interfaces, mounts and data root. Safe to call twice. */
  destroy(): Promise<void>;
}

interface EngineState {
  owner: number;
  netns: string;
  veth: string;
  dir: string;
  mounted: boolean;
}

/** Starts a second Docker engine in a namespace of its own; the caller must `destroy()` it. */
export async function startDockerEngine(options: DockerEngineOptions = {}): Promise<DockerEngine> {
  sweepAbandonedEngines();
  const id = randomBytes(3).toString('hex');
  const netns = `${STATE_PREFIX}${id}`;
  const dir = `${STATE_ROOT}/${STATE_PREFIX}${id}`;
  const veth = `rhe${id}`;
  const { hostAddress, address, bridge, pool } = pickAddresses();
  const dataRoot = `${dir}/data`;
  const socket = `${dir}/docker.sock`;
  const state: EngineState = { owner: process.pid, netns, veth, dir, mounted: false };
  mkdirSync(dataRoot, { recursive: true });
  writeState(state);

  let proxy: ChildProcess | undefined;
  let log = '';
  const onExit = () => removeEngineSync(state);
  process.once('exit', onExit);

  const inNetns = (command: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
    spawn('nsenter', [`--net=/run/netns/${netns}`, '--', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });

  const launchOnce = async (): Promise<ChildProcess> => {
    const args = [
      `--data-root=${dataRoot}`,
      `--exec-root=${dir}/exec`,
      `--pidfile=${dir}/docker.pid`,
      `--host=unix://${socket}`,
      `--bip=${bridge}`,
      `--default-address-pool=base=${pool},size=28`,
      ...(options.liveRestore ? ['--live-restore'] : []),
    ];
    const child = inNetns(DOCKERD_BIN, args);
    collectOutput(child, (text) => (log += text));
    await Promise.race([waitFor(() => ping(socket), { timeoutMs: READY_TIMEOUT_MS, intervalMs: 250, what: `dockerd of engine ${id} to answer /_ping\n${log.slice(-3000)}` }), exitOf(child, 'dockerd', () => log)]);
    return child;
  };
  // A dockerd that gives up on its containerd under load (its own 10-odd second limit) is started
  // again, as systemd's Restart= would on a real host.
  const dockerd = supervise(
    async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await launchOnce();
        } catch (error) {
          if (attempt >= 3 || !log.includes('timeout waiting for containerd')) throw error;
        }
      }
    },
    { stopTimeoutMs: STOP_TIMEOUT_MS },
  );

  const docker = async (args: readonly string[]): Promise<string> => (await run('docker', ['-H', `unix://${socket}`, ...args], { maxBuffer: 16 * 1024 * 1024 })).stdout;

  const engine: DockerEngine = {
    id,
    netns,
    socket,
    proxyUrl: `tcp://127.0.0.1:${PROXY_PORT}`,
    hostAddress,
    address,
    dataRoot,
    spawn: inNetns,
    docker,
    async loadImages(images) {
      for (const image of images) {
        // Piped through a shell: `docker save` of the shared engine straight into this one's load.
        await run('bash', ['-o', 'pipefail', '-c', `docker save "$0" | docker -H "unix://$1" load -q`, image, socket], { maxBuffer: 16 * 1024 * 1024 });
      }
    },
    stop: () => dockerd.halt('SIGTERM'),
    kill: () => dockerd.halt('SIGKILL'),
    start: () => dockerd.start(),
    async restart() {
      await dockerd.halt('SIGTERM');
      await dockerd.start();
    },
    output: () => log,
    async destroy() {
      process.off('exit', onExit);
      proxy?.kill('SIGKILL');
      // Through the engine while it answers, so its containers stop as Docker stops them.
      if (dockerd.running() && (await ping(socket))) {
        const ids = (await docker(['ps', '-aq']).catch(() => '')).split('\n').filter(Boolean);
        if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids]).catch(() => undefined);
      }
      dockerd.release();
      await dockerd.halt('SIGTERM');
      removeEngineSync(state);
    },
  };

  try {
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}n`, 'netns', netns]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', veth]);
    await run('ip', ['link', 'set', veth, 'up']);
    await run('ip', ['-n', netns, 'addr', 'add', `${address}/30`, 'dev', `${veth}n`]);
    await run('ip', ['-n', netns, 'link', 'set', `${veth}n`, 'up']);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', netns, 'route', 'add', 'default', 'via', hostAddress]);
    if (options.dataRootMb) {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${options.dataRootMb}m`, `rh-engine-${id}`, dataRoot]);
      state.mounted = true;
      writeState(state);
    }
    await dockerd.start();
    proxy = inNetns(HAPROXY_BIN, ['-db', '-f', `${repoRoot}deploy/socket-proxy/haproxy.cfg`], {
      env: { ...process.env, SOCKET_PROXY_BIND: `127.0.0.1:${PROXY_PORT}`, DOCKER_SOCKET: socket },
    });
    proxy.stdout?.resume();
    proxy.stderr?.resume();
    if (options.images?.length) await engine.loadImages(options.images);
    return engine;
  } catch (error) {
    await engine.destroy();
    throw error;
  }
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Private addresses no other engine on this machine uses: the veth pair in 10.201.N.0/30, the
 * engine's default bridge in 10.202.N.0/24, its networks in 10.203.N.0/24 (sixteen /28s).
 */
function pickAddresses(): { hostAddress: string; address: string; bridge: string; pool: string } {
  const used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  for (let attempt = 0; attempt < 50; attempt++) {
    const n = randomBytes(1)[0]!;
    if (used.includes(`10.201.${n}.`) || used.includes(`10.202.${n}.`)) continue;
    return { hostAddress: `10.201.${n}.1`, address: `10.201.${n}.2`, bridge: `10.202.${n}.1/24`, pool: `10.203.${n}.0/24` };
  }
  throw new Error('no free 10.201.N.0/30 for a test Docker engine');
}

function writeState(state: EngineState): void {
  writeFileSync(`${state.dir}/owner.json`, JSON.stringify(state));
}

/** Kills what is left of an engine (dockerd, its containerd and shims, the proxy) and removes it. */
function removeEngineSync(state: EngineState): void {
  const quiet = (command: string, args: string[]) => {
    try {
      execFileSync(command, args, { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  };
  // Every process still in the namespace: dockerd, containerd, shims, the runners, the proxy.
  let pids: string[] = [];
  try {
    pids = execFileSync('ip', ['netns', 'pids', state.netns], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    // No namespace.
  }
  for (const pid of pids) quiet('kill', ['-9', pid]);
  // The containers' own processes are in namespaces of their own: find them by their cgroups.
  killContainerCgroups(`${state.dir}/data/containers`);
  // Shims and containerd of the engine live in the host namespace's view of processes but carry the
  // engine's exec root in their command line.
  try {
    const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
    for (const line of ps.split('\n')) if (line.includes(`${state.dir}/`)) quiet('kill', ['-9', line.trim().split(/\s+/)[0]!]);
  } catch {
    // ps missing: the namespace pids were enough.
  }
  // Container mounts under the data root (overlay, shm) before the root itself.
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${state.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) quiet('umount', ['-l', m]);
  } catch {
    // No /proc/mounts.
  }
  quiet('ip', ['link', 'del', state.veth]);
  quiet('ip', ['netns', 'del', state.netns]);
  rmSync(state.dir, { recursive: true, force: true });
}

/** Kills the processes of every container of a data root, by cgroup (v1 and v2), and removes the cgroups. */
function killContainerCgroups(containersDir: string): void {
  let ids: string[] = [];
  try {
    ids = readdirSync(containersDir);
  } catch {
    return;
  }
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}`);
  for (const id of ids) {
    for (const root of roots) {
      const group = `${root}/docker/${id}`;
      try {
        for (const pid of readFileSync(`${group}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // Exited meanwhile.
          }
        }
      } catch {
        // No such group under this controller.
      }
    }
  }
  for (const id of ids) for (const root of roots) rmdirLater(`${root}/docker/${id}`);
}

/** A cgroup can only go once its last process has been reaped: try for a moment. */
function rmdirLater(group: string): void {
  for (let i = 0; i < 20 && existsSync(group); i++) {
    try {
      rmdirSync(group);
    } catch {
      execFileSync('sleep', ['0.05']);
    }
  }
}

/** Engines of test processes that died without cleaning up (a killed vitest worker). */
function sweepAbandonedEngines(): void {
  for (const name of readdirSync(STATE_ROOT)) {
    if (!name.startsWith(STATE_PREFIX)) continue;
    const file = `${STATE_ROOT}/${name}/owner.json`;
    if (!existsSync(file)) continue;
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as EngineState;
      if (!alive(state.owner)) removeEngineSync(state);
    } catch {
      // Half written: its owner is starting it now.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
