import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './service-process.js';
import { collectOutput, exitOf, supervise, type Supervised } from './supervised.js';
import { waitFor } from './wait-for.js';

/**
 * Servers a test owns, so that it may stop, kill and restart them: a Postgres cluster of its own
 * (Debian's binaries, initdb into a temp dir, trust auth on a free loopback port) and a Redis of
 * its own. The machine's shared servers are never touched.
 */

const run = promisify(execFile);
const READY_TIMEOUT_MS = 60_000;

export interface OwnedServer {
  /** Connection URL (Postgres: of the `postgres` database as the `postgres` role, which may create databases). */
  readonly url: string;
  readonly port: number;
  /** A clean stop (Postgres: pg_ctl stop -m fast; Redis: SHUTDOWN NOSAVE via SIGTERM). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port (Postgres: the same data; Redis: empty). */
  start(): Promise<void>;
  restart(): Promise<void>;
  output(): string;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

function pgBin(name: string): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(`/usr/lib/postgresql/${v}/bin/${name}`)) return `/usr/lib/postgresql/${v}/bin/${name}`;
  return name;
}

/** A private Postgres cluster; run as the `postgres` user when the test is root (Postgres refuses root). */
export async function startPostgresServer(): Promise<OwnedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rh-pg-'));
  const data = join(dir, 'data');
  const user = process.getuid?.() === 0 ? { uid: Number(idOf('-u')), gid: Number(idOf('-g')) } : {};
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
  await run(pgBin('initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], user);
  const port = await freePort();
  let out = '';
  const launchOnce = async (): Promise<ChildProcess> => {
    const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'];
    const proc = spawn(pgBin('postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...user });
    collectOutput(proc, (text) => (out += text));
    const ready = waitFor(() => run(pgBin('pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres']).then(() => true, () => false), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 200,
      what: `private postgres on ${port}`,
    });
    try {
      await Promise.race([ready, exitOf(proc, 'postgres', () => out)]);
    } catch (error) {
      proc.kill('SIGKILL');
      throw error;
    }
    return proc;
  };
  // After a kill -9 the old backends may hold the shared memory for a moment: start again then.
  const launch = async (): Promise<ChildProcess> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await launchOnce();
      } catch (error) {
        if (attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  // SIGINT is Postgres' fast shutdown: it ends the sessions and checkpoints.
  return ownedServer(supervise(launch), { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stopSignal: 'SIGINT', output: () => out, remove: () => rmSync(dir, { recursive: true, force: true }) });
}

/** The OwnedServer of a supervised process. */
async function ownedServer(server: Supervised, o: { url: string; port: number; stopSignal: NodeJS.Signals; output: () => string; remove?: () => void }): Promise<OwnedServer> {
  await server.start();
  return {
    url: o.url,
    port: o.port,
    stop: () => server.halt(o.stopSignal),
    kill: () => server.halt('SIGKILL'),
    start: () => server.start(),
    async restart() {
      await server.halt(o.stopSignal);
      await server.start();
    },
    output: o.output,
    async destroy() {
      server.release();
      await server.halt(o.stopSignal);
      o.remove?.();
    },
  };
}

function idOf(flag: '-u' | '-g'): string {
  return execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim();
}

/** A private Redis that keeps nothing on disk: every start is an empty data set. */
export async function startRedisServer(): Promise<OwnedServer> {
  const port = await freePort();
  let out = '';
  const launch = async (): Promise<ChildProcess> => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const ready = new Promise<void>((resolve) =>
      collectOutput(proc, (text) => {
        out += text;
        seen += text;
        if (seen.includes('Ready to accept connections')) resolve();
      }),
    );
    await Promise.race([ready, exitOf(proc, 'redis-server', () => out)]);
    return proc;
  };
  return ownedServer(supervise(launch), { url: `redis://127.0.0.1:${port}`, port, stopSignal: 'SIGTERM', output: () => out });
}
