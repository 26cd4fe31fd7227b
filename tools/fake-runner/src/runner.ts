import { join } from 'node:path';
import { decodeJitConfig, JitConfigError, removeRunnerFiles, settingsFrom, writeRunnerFiles } from './jit-config.js';
import { takeRunnerInputs } from './inputs.js';
import { runJob, type JobOutcome } from './job.js';
import { ProtocolError, RunnerProtocol, type AssignedJob } from './protocol.js';

/**
 * A stand-in for actions/runner that GitHub's side (our simulator) treats as the real one: it takes
 * the JIT config the same way, runs exactly one job, reports it, cleans up and exits.
 *
 * runListener returns what `Runner.Listener` returns (actions/runner Constants.cs ReturnCode):
 * 0 after a job or when the registration is gone, 1 (TerminatedError) for a bad config, a session
 * refused or an outdated version, 2 (RetryableError) when the server stayed unreachable (the real
 * runner keeps retrying), 5 (SessionConflict), and 7 (RunnerVersionDeprecated) for an outdated
 * version when ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE is set. The stand-in image's
 * run.sh maps them as the real one does; runRunner maps them the same way for the fake image,
 * whose run.sh execs node directly.
 */

/** The version it reports; RUNNERHUB_RUNNER_VERSION plays another (an outdated runner, say). */
const VERSION = '2.330.0-runnerhub-fake';

export const LISTENER_CODE = { success: 0, terminated: 1, retryable: 2, runnerUpdating: 3, runOnceUpdating: 4, sessionConflict: 5, versionDeprecated: 7 } as const;
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

const truthy = (value: string | undefined) => value !== undefined && /^(1|true)$/i.test(value.trim());

/** run.sh's mapping with RUNNER_MANUALLY_TRAP_SIG (github-contract.md §6): what the container exits with. */
export function runShExitCode(listenerCode: number, env: NodeJS.ProcessEnv): number {
  if (listenerCode === LISTENER_CODE.retryable || listenerCode === LISTENER_CODE.runnerUpdating || listenerCode === LISTENER_CODE.runOnceUpdating) return 2;
  if (listenerCode === LISTENER_CODE.versionDeprecated && env['ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE'] === '1') return 7;
  return 0;
}

/** The fake image: the listener, exiting as run.sh would (its run.sh execs node with no helper). */
export async function runRunner(argv: readonly string[], env: NodeJS.ProcessEnv, options: RunnerOptions, io: RunnerIo): Promise<number> {
  if (process.getuid?.() === 0 && !env['RUNNER_ALLOW_RUNASROOT']) {
    io.err('Must not run with sudo');
    return 1;
  }
  return runShExitCode(await runListener(argv, env, options, io), env);
}

export async function runListener(argv: readonly string[], env: NodeJS.ProcessEnv, options: RunnerOptions, io: RunnerIo): Promise<number> {
  const version = env['RUNNERHUB_RUNNER_VERSION'] || VERSION;
  const deprecatedCode = truthy(env['ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE']) ? LISTENER_CODE.versionDeprecated : LISTENER_CODE.terminated;
  const inputs = takeRunnerInputs(argv, env);
  if (inputs.has('version')) {
    io.out(version);
    return LISTENER_CODE.success;
  }
  const encoded = inputs.get('jitconfig');
  if (!encoded) {
    io.err('No JIT configuration: pass --jitconfig <config> or set ACTIONS_RUNNER_INPUT_JITCONFIG.');
    return LISTENER_CODE.terminated;
  }
  let files: Map<string, string>;
  let settings: ReturnType<typeof settingsFrom>;
  try {
    files = decodeJitConfig(encoded);
    settings = settingsFrom(files);
  } catch (error) {
    if (!(error instanceof JitConfigError)) throw error;
    io.err(stamp(`An error occurred: ${error.message}`));
    return LISTENER_CODE.terminated;
  }
  writeRunnerFiles(options.root, files);
  const protocol = new RunnerProtocol(settings.serverUrl, settings.token);
  let sessionId: string | undefined;
  try {
    try {
      sessionId = await retrying(() => protocol.createSession(settings.agentId, version), options, io);
    } catch (error) {
      if (options.stop.aborted) return LISTENER_CODE.success;
      if (error instanceof ProtocolError && error.status === 404) {
        io.err(stamp('Failed to create a session. The runner registration has been deleted from the server, please re-configure.'));
        return LISTENER_CODE.terminated;
      }
      if (error instanceof ProtocolError && error.status === 409) {
        io.err(stamp(`A session for this runner already exists: ${error.message}`));
        return LISTENER_CODE.sessionConflict;
      }
      if (error instanceof ProtocolError) {
        io.err(stamp(`Failed to create a session: ${error.message}`));
        return LISTENER_CODE.terminated;
      }
      io.err(stamp(`Could not reach ${settings.serverUrl}: ${error instanceof Error ? error.message : String(error)}`));
      return LISTENER_CODE.retryable;
    }
    io.out(stamp('√ Connected to GitHub'));
    io.out(`Current runner version: '${version}'`);
    io.out(stamp(`Runner ${settings.agentName} (id ${settings.agentId})`));
    io.out(stamp('Listening for Jobs'));

    let job: AssignedJob | undefined;
    while (!job) {
      if (options.stop.aborted) return LISTENER_CODE.success;
      try {
        job = await retrying(() => protocol.nextJob(sessionId!, POLL_WAIT_SECONDS, options.stop), options, io);
      } catch (error) {
        if (options.stop.aborted) return LISTENER_CODE.success;
        if (error instanceof ProtocolError && error.status === 404) {
          io.err(stamp('The runner no longer exists on the server. Cleaning up local configuration.'));
          return LISTENER_CODE.success;
        }
        if (error instanceof ProtocolError && error.errorKind === 'RunnerVersionTooOld') {
          io.err(`An error occurred: ${error.message}`);
          return deprecatedCode;
        }
        io.err(stamp(`Lost the server: ${error instanceof Error ? error.message : String(error)}`));
        return LISTENER_CODE.retryable;
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
  return LISTENER_CODE.success;
}
