import { join } from 'node:path';
import { decodeJitConfig, JitConfigError, removeRunnerFiles, settingsFrom, writeRunnerFiles } from './jit-config.js';
import { takeRunnerInputs } from './inputs.js';
import { runJob, type JobOutcome } from './job.js';
import { ProtocolError, RunnerProtocol, type AssignedJob } from './protocol.js';

/**
 * A stand-in for actions/runner that GitHub's side (our simulator) treats as the real one: it takes
 * the JIT config the same way, runs exactly one job, reports it, cleans up and exits. Exit codes
 * follow run.sh with RUNNER_MANUALLY_TRAP_SIG (github-contract.md §6): 0 after a job, and 0 for
 * "terminated" errors (bad config, registration deleted, session conflict) that no retry can fix;
 * 2 when the server stayed unreachable (the real runner would keep retrying).
 */

const VERSION = '2.330.0-runnerhub-fake';
const POLL_WAIT_SECONDS = 30;
const RENEW_MS = 5_000;

export interface RunnerIo {
  out(line: string): void;
  err(line: string): void;
}

export interface RunnerOptions {
  root: string;
  /** How long to keep trying an unreachable server before giving up. */
  connectTimeoutMs: number;
  /** Aborted on SIGTERM/SIGINT. */
  stop: AbortSignal;
}

function stamp(line: string): string {
  return `${new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')}: ${line}`;
}

const RESULT_WORD: Record<JobOutcome['conclusion'], string> = { success: 'Succeeded', failure: 'Failed', cancelled: 'Canceled' };

/** Resolves after `ms`, or at once when `signal` aborts (SIGTERM must not wait out a backoff). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

async function retrying<T>(what: () => Promise<T>, options: RunnerOptions, io: RunnerIo): Promise<T> {
  const deadline = Date.now() + options.connectTimeoutMs;
  let delay = 500;
  for (;;) {
    try {
      return await what();
    } catch (error) {
      if (error instanceof ProtocolError && error.status < 500) throw error;
      if (Date.now() + delay > deadline || options.stop.aborted) throw error;
      io.err(stamp(`Server unreachable (${error instanceof Error ? error.message : String(error)}); retrying in ${delay} ms`));
      await sleep(delay, options.stop);
      if (options.stop.aborted) throw error;
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

export async function runRunner(argv: readonly string[], env: NodeJS.ProcessEnv, options: RunnerOptions, io: RunnerIo): Promise<number> {
  const inputs = takeRunnerInputs(argv, env);
  if (inputs.has('version')) {
    io.out(VERSION);
    return 0;
  }
  if (process.getuid?.() === 0 && !env['RUNNER_ALLOW_RUNASROOT']) {
    io.err('Must not run with sudo');
    return 1;
  }
  const encoded = inputs.get('jitconfig');
  if (!encoded) {
    io.err('No JIT configuration: pass --jitconfig <config> or set ACTIONS_RUNNER_INPUT_JITCONFIG.');
    return 0;
  }
  let files: Map<string, string>;
  let settings: ReturnType<typeof settingsFrom>;
  try {
    files = decodeJitConfig(encoded);
    settings = settingsFrom(files);
  } catch (error) {
    if (!(error instanceof JitConfigError)) throw error;
    io.err(stamp(`An error occurred: ${error.message}`));
    return 0;
  }
  writeRunnerFiles(options.root, files);
  const protocol = new RunnerProtocol(settings.serverUrl, settings.token);
  let sessionId: string | undefined;
  try {
    try {
      sessionId = await retrying(() => protocol.createSession(settings.agentId, VERSION), options, io);
    } catch (error) {
      if (options.stop.aborted) return 0;
      if (error instanceof ProtocolError && error.status === 404) {
        io.err(stamp('Failed to create a session. The runner registration has been deleted from the server, please re-configure.'));
        return 0;
      }
      if (error instanceof ProtocolError && error.status === 409) {
        io.err(stamp(`A session for this runner already exists: ${error.message}`));
        return 0;
      }
      if (error instanceof ProtocolError) {
        io.err(stamp(`Failed to create a session: ${error.message}`));
        return 0;
      }
      io.err(stamp(`Could not reach ${settings.serverUrl}: ${error instanceof Error ? error.message : String(error)}`));
      return 2;
    }
    io.out(stamp('√ Connected to GitHub'));
    io.out(stamp(`Runner ${settings.agentName} (id ${settings.agentId}), version ${VERSION}`));
    io.out(stamp('Listening for Jobs'));

    let job: AssignedJob | undefined;
    while (!job) {
      if (options.stop.aborted) return 0;
      try {
        job = await retrying(() => protocol.nextJob(sessionId!, POLL_WAIT_SECONDS, options.stop), options, io);
      } catch (error) {
        if (options.stop.aborted) return 0;
        if (error instanceof ProtocolError && error.status === 404) {
          io.err(stamp('The runner registration has been deleted from the server; exiting.'));
          return 0;
        }
        io.err(stamp(`Lost the server: ${error instanceof Error ? error.message : String(error)}`));
        return 2;
      }
    }
    return await runAssigned(job, protocol, settings, env, options, io);
  } finally {
    if (sessionId) await protocol.deleteSession(sessionId);
    removeRunnerFiles(options.root, files);
  }
}

async function runAssigned(
  job: AssignedJob,
  protocol: RunnerProtocol,
  settings: ReturnType<typeof settingsFrom>,
  env: NodeJS.ProcessEnv,
  options: RunnerOptions,
  io: RunnerIo,
): Promise<number> {
  io.out(stamp(`Running job: ${job.name}`));
  const cancel = new AbortController();
  const onStop = (): void => cancel.abort();
  options.stop.addEventListener('abort', onStop, { once: true });
  const renewals = setInterval(() => {
    protocol
      .renew(job.id)
      .then(({ cancelRequested }) => {
        if (cancelRequested && !cancel.signal.aborted) {
          io.out(stamp('The job was cancelled'));
          cancel.abort();
        }
      })
      .catch((error: unknown) => io.err(stamp(`Renewing the job failed: ${error instanceof Error ? error.message : String(error)}`)));
  }, RENEW_MS);
  const [repoName] = job.repository.split('/').slice(-1);
  const outcome = await runJob(job, {
    workDir: join(options.root, settings.workFolder, repoName ?? 'repo', repoName ?? 'repo'),
    env: {
      ...env,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: job.repository,
      GITHUB_RUN_ID: String(job.runId),
      GITHUB_JOB: job.name,
      RUNNER_NAME: settings.agentName,
    },
    signal: cancel.signal,
  }).finally(() => {
    clearInterval(renewals);
    options.stop.removeEventListener('abort', onStop);
  });
  try {
    await protocol.complete(job.id, outcome.conclusion, outcome.exitCode);
  } catch (error) {
    io.err(stamp(`Reporting the result failed: ${error instanceof Error ? error.message : String(error)}`));
  }
  io.out(stamp(`Job ${job.name} completed with result: ${RESULT_WORD[outcome.conclusion]}`));
  return 0;
}
