import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './service-process.js';

/** Debian's package path; tests use a server of their own so they can stop and restart it. */
const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
/** A loaded 2-core CI box can take a few seconds to open the file store. */
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface NatsServerOptions {
  /** Also open the HTTP monitoring port (/varz, /jsz). */
  monitor?: boolean;
  /** Extra command-line arguments, e.g. ['--user', 'u', '--pass', 'p']. */
  args?: string[];
}

export interface NatsServer {
  url: string;
  port: number;
  monitorUrl?: string;
  storeDir: string;
  /** Everything the server logged so far (for failure messages). */
  output(): string;
  /** Stops the server (SIGTERM) and removes its store; with keepStore, start() can bring it back. */
  stop(opts?: { keepStore?: boolean }): Promise<void>;
  /** Starts a stopped or killed server again on the same port and store; does nothing if it runs. */
  start(): Promise<void>;
  /** Stops the server if it runs (SIGTERM), then starts it again on the same port and store. */
  restart(): Promise<void>;
  /** SIGKILL, as a crash would; the store stays, and start()/restart() bring the server back. */
  kill(): Promise<void>;
}

/** Runs a JetStream-enabled nats-server on a free loopback port with its store in a temp dir. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const storeDir = await mkdtemp(join(tmpdir(), 'rh-nats-'));
  let port = 0;
  let monitorPort = 0;
  let child: ChildProcess | undefined;
  let out = '';

  const exitKiller = () => child?.kill('SIGKILL');
  process.once('exit', exitKiller);

  const launch = async (): Promise<void> => {
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...(opts.args ?? [])];
    if (monitorPort) args.push('-m', String(monitorPort));
    const proc = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (d: Buffer) => {
        seen += d.toString();
        out += d.toString();
        if (seen.includes('Server is ready')) finish();
      };
      const onExit = (code: number | null) => finish(new Error(`nats-server exited (${code}) before it was ready:\n${seen}`));
      const timer = setTimeout(() => finish(new Error(`nats-server not ready after ${READY_TIMEOUT_MS} ms:\n${seen}`)), READY_TIMEOUT_MS);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        proc.off('exit', onExit);
        if (err) {
          proc.kill('SIGKILL');
          if (child === proc) child = undefined;
          reject(err);
        } else resolve();
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.once('exit', onExit);
    });
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  // Another process may take the free port between the probe and the server's bind; try again then.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    monitorPort = opts.monitor ? await freePort() : 0;
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3) {
        process.off('exit', exitKiller);
        await rm(storeDir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    ...(monitorPort ? { monitorUrl: `http://127.0.0.1:${monitorPort}` } : {}),
    storeDir,
    output: () => out,
    stop: async ({ keepStore = false } = {}) => {
      await halt('SIGTERM');
      if (keepStore) return;
      process.off('exit', exitKiller);
      await rm(storeDir, { recursive: true, force: true });
    },
    start: async () => {
      if (!child || child.exitCode !== null || child.signalCode !== null) await launch();
    },
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    kill: () => halt('SIGKILL'),
  };
}
