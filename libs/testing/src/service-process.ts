import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

/** The repository root, from this file's place in libs/testing/src. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal) once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The V8 settings the service images run with (`NODE_OPTIONS` in the Dockerfile, and `make run`): a
 * 1 MB young-generation semi-space instead of V8's 16 MB keeps ≈30 MB less resident per service for
 * a few more (cheap) scavenges; see docs/performance.md.
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=1';

/**
 * Starts a service as its own process, with `env` added to a clean environment (PATH and HOME only),
 * on a free port: from source as `make run` does, or `compiled` from `dist/` (after `make build`) as
 * the service images run it.
 */
export interface ServiceProcessOptions {
  compiled?: boolean;
  nodeArgs?: readonly string[];
  /**
   * Run inside this network namespace (a test Docker engine's host, `ip netns` name), listening on
   * `httpHost` there; the process's loopback is then the namespace's own.
   */
  netns?: string;
  /** Address the HTTP server listens on and the test reaches it at; 127.0.0.1 by default. */
  httpHost?: string;
  /** Listen on this port rather than a free one: a restarted service keeps its address, as in compose. */
  port?: number;
}

export async function startServiceProcess(name: string, env: Record<string, string>, options: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const httpHost = options.httpHost ?? '127.0.0.1';
  // nodeArgs: flags NODE_OPTIONS may not carry (--cpu-prof, for a profile of a bench run).
  const args = [...(options.nodeArgs ?? []), ...(options.compiled ? [`services/${name}/dist/main.js`] : ['--conditions=runnerhub-source', '--import', 'tsx', `services/${name}/src/main.ts`])];
  // nsenter --net enters only the network namespace (ip netns exec would remount /sys) and execs node.
  const [command, argv] = options.netns ? ['nsenter', [`--net=/run/netns/${options.netns}`, '--', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(command, argv, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', HTTP_HOST: httpHost, HTTP_PORT: String(port), LOG_LEVEL: 'info', NODE_OPTIONS: SERVICE_NODE_OPTIONS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    url: `http://${httpHost}:${port}`,
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Waits until the service answers /readyz with 200; the timeout message carries its output. */
export async function waitForReady(service: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await fetch(`${service.url}/readyz`).catch(() => undefined))?.status === 200, {
    timeoutMs,
    what: `${service.name} /readyz to answer 200\n${service.output().slice(-3000)}`,
  });
}
