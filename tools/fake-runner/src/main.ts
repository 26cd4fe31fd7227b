import { runRunner } from './runner.js';

// Entry point: /home/runner/run.sh execs this with its arguments. SIGTERM/SIGINT cancel the job
// (reported as cancelled) and end the runner, as run.sh does with RUNNER_MANUALLY_TRAP_SIG.
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());

const code = await runRunner(
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
