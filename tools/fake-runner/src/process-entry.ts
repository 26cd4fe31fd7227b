import type { RunnerIo, RunnerOptions } from './runner.js';

type Entry = (argv: readonly string[], env: NodeJS.ProcessEnv, options: RunnerOptions, io: RunnerIo) => Promise<number>;

/**
 * Runs an entry as this process: its arguments and environment, SIGTERM/SIGINT cancel the job
 * (reported as cancelled) and end the runner, as run.sh does with RUNNER_MANUALLY_TRAP_SIG; exits
 * with the code it returns.
 */
export async function runAsProcess(entry: Entry): Promise<never> {
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  const code = await entry(
    process.argv.slice(2),
    process.env,
    {
      root: process.env['RUNNER_ROOT'] ?? process.cwd(),
      connectTimeoutMs: Number(process.env['RUNNER_CONNECT_TIMEOUT_SECONDS'] ?? 120) * 1000,
      stop: stop.signal,
    },
    { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) },
  );
  process.exit(code);
}
