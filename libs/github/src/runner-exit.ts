/**
 * What a runner container's exit means, read as actions/runner writes it
 * (../shared/reference/github-contract.md §6). The official image runs `run.sh` with
 * RUNNER_MANUALLY_TRAP_SIG=1, so the container exits with run-helper.sh's code: 0 for the listener's
 * Success, TerminatedError (1), SessionConflict (5) and RunnerConfigurationRefreshed (6) alike; 7
 * for RunnerVersionDeprecated only with ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE=1 (else
 * 0); RetryableError and self-updates (2, 3, 4) loop inside run.sh and never end the container. So
 * the code alone says little; the listener's own last lines say the rest. The job's result never
 * shows here (GitHub reports it).
 */

export type RunnerExitKind =
  /** Ended as a runner does: its job done, or stopped. */
  | 'finished'
  | 'oom-killed'
  /** GitHub no longer gives this runner version jobs (more than 30 days behind the latest release). */
  | 'version-deprecated'
  /** Another process holds the runner's session: the same JIT config started twice. */
  | 'session-conflict'
  /** The registration was deleted at GitHub before the runner could use it. */
  | 'registration-deleted'
  /** The JIT config could not be read (bad base64 or JSON). */
  | 'bad-jit-config'
  /** The runner refuses to run as root (the image's USER is root). */
  | 'runs-as-root'
  /** The pool's command is not in the image, or not executable (126, 127). */
  | 'command-not-found';

export interface RunnerExit {
  kind: RunnerExitKind;
  /** True when the pool should count it as a failure (and back off): it will happen again. */
  failure: boolean;
  /** One sentence for a person, with what to do; empty for `finished`. */
  message: string;
}

const any = (lines: readonly string[], pattern: RegExp) => lines.some((l) => pattern.test(l));

export function runnerExit(exit: { exitCode: number; oomKilled: boolean; lastLogLines: readonly string[] }): RunnerExit {
  const lines = exit.lastLogLines;
  const failed = (kind: RunnerExitKind, message: string): RunnerExit => ({ kind, failure: true, message });
  if (exit.oomKilled && exit.exitCode !== 0) return failed('oom-killed', 'the runner container was killed for using more memory than the pool allows');
  if (exit.exitCode === 7 || any(lines, /is deprecated and cannot receive messages/i)) {
    return failed(
      'version-deprecated',
      "the runner image is outdated: GitHub gives no jobs to a runner version more than 30 days behind the latest release; pull a current image (pullPolicy: always on a latest tag, or update the pool's pinned tag)",
    );
  }
  if (exit.exitCode === 126 || exit.exitCode === 127) {
    return failed('command-not-found', `the pool's command could not be run in the image (exit ${exit.exitCode}): check the pool's image and command (default /home/runner/run.sh)`);
  }
  if (any(lines, /Must not run with sudo/)) return failed('runs-as-root', 'the runner refuses to run as root: use an image whose USER is the runner user (ghcr.io/actions/actions-runner runs as runner, uid 1001)');
  if (any(lines, /A session for this runner already exists/i)) return failed('session-conflict', "another process holds this runner's session: its JIT config was started twice");
  if (any(lines, /runner registration has been deleted from the server/i)) {
    return { kind: 'registration-deleted', failure: false, message: 'the runner was deleted at GitHub before it took a job' };
  }
  if (any(lines, /An error occurred: .*(jit|base64|json)/i)) return failed('bad-jit-config', 'the runner could not read its JIT config');
  return { kind: 'finished', failure: false, message: '' };
}
