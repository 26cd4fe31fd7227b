import type { ChildProcess } from 'node:child_process';

/**
 * One server process a test starts, stops, kills and starts again (the test's own Postgres, Redis,
 * dockerd): `launch` spawns it and resolves once it is ready, with the child; the rest is shared.
 */
export interface Supervised {
  /** Starts it unless it runs. */
  start(): Promise<void>;
  /** Sends `signal`, waits for the exit (SIGKILL after `stopTimeoutMs`); nothing if it is not running. */
  halt(signal: NodeJS.Signals): Promise<void>;
  running(): boolean;
  /** Kills it, if running, when the test process exits without cleaning up. */
  release(): void;
}

export function supervise(launch: () => Promise<ChildProcess>, options: { stopTimeoutMs?: number } = {}): Supervised {
  let child: ChildProcess | undefined;
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  const alive = () => !!child && child.exitCode === null && child.signalCode === null;
  return {
    async start() {
      if (!alive()) child = await launch();
    },
    async halt(signal) {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const ended = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), options.stopTimeoutMs ?? 20_000);
      await ended;
      clearTimeout(timer);
    },
    running: alive,
    release: () => process.off('exit', onExit),
  };
}

/** Spawned `proc` as a promise that rejects with its output once it exits (raced against readiness). */
export function exitOf(proc: ChildProcess, what: string, output: () => string): Promise<never> {
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${output().slice(-3000)}`))));
  exited.catch(() => undefined);
  return exited;
}

/** Collects a child's stdout and stderr into `sink`. */
export function collectOutput(proc: ChildProcess, sink: (text: string) => void): void {
  proc.stdout?.on('data', (d: Buffer) => sink(d.toString()));
  proc.stderr?.on('data', (d: Buffer) => sink(d.toString()));
}
