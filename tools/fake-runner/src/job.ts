import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { AssignedJob } from './protocol.js';

/**
 * Runs the one job: its command with `sh -c` in the work folder (exit 0 = success), or, without a
 * command, a sleep for its duration that ends in the conclusion the simulator asked for. `signal`
 * cancels: the command gets SIGTERM, then SIGKILL after a grace period.
 */

export type Conclusion = 'success' | 'failure' | 'cancelled';

/**
 * What sudo prints when the container forbids it: under no-new-privileges, or without the
 * capabilities it needs (both measured with sudo 1.9, libs/docker/test/sudo.test.ts).
 */
const SUDO_REFUSED = /The "no new privileges" flag is set|sudo: unable to change to root gid|sudo: unable to (set|change to) (root )?uid|effective uid is not 0/;

/** Said once in the job's log when a step's sudo was refused: which pool setting allows it. */
export const SUDO_HINT =
  'RunnerHub: sudo cannot work on this pool: its runners run with no-new-privileges and no capabilities. ' +
  'Set `sudo: true` on the pool in the pool file to allow privileged steps (docs/pools.md#sudo), or run the step without sudo.';

export interface JobOutcome {
  conclusion: Conclusion;
  exitCode?: number;
}

const KILL_GRACE_MS = 5_000;
const SIGNAL_GRACE_MS = 1_000;

export function runJob(job: AssignedJob, options: { workDir: string; env: NodeJS.ProcessEnv; signal: AbortSignal }): Promise<JobOutcome> {
  mkdirSync(options.workDir, { recursive: true });
  if (options.signal.aborted) return Promise.resolve({ conclusion: 'cancelled' });
  if (!job.command) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        options.signal.removeEventListener('abort', onAbort);
        resolve({ conclusion: job.conclusion === 'failure' ? 'failure' : job.conclusion === 'cancelled' ? 'cancelled' : 'success' });
      }, job.durationMs);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve({ conclusion: 'cancelled' });
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', job.command!], { cwd: options.workDir, env: options.env, stdio: ['inherit', 'inherit', 'pipe'] });
    // The step's stderr goes on to the log as it comes; a refused sudo gets the hint beside it.
    let hinted = false;
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      pending = (pending + chunk.toString('utf8')).slice(-4096);
      if (!hinted && SUDO_REFUSED.test(pending)) {
        hinted = true;
        process.stderr.write(`##[error]${SUDO_HINT}\n`);
      }
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', () => resolve({ conclusion: 'failure', exitCode: 127 }));
    child.on('exit', (code, signal) => {
      clearTimeout(killTimer);
      const decide = (): void => {
        options.signal.removeEventListener('abort', onAbort);
        if (options.signal.aborted) resolve({ conclusion: 'cancelled', exitCode: code ?? undefined });
        else resolve({ conclusion: code === 0 ? 'success' : 'failure', exitCode: code ?? undefined });
      };
      // A stop signal reaches the step (same process group) and this process at once, and the
      // step's exit may be seen first: give the signal a moment before calling it a failure.
      if (signal === 'SIGINT' || signal === 'SIGTERM' || code === 130 || code === 143) setTimeout(decide, SIGNAL_GRACE_MS);
      else decide();
    });
  });
}
