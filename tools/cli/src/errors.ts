/** Exit codes of every command (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The command ran, and what it found is not good: a service not ready, a doctor check failed, a wait that timed out. */
  unhealthy: 1,
  /** Bad arguments or settings. */
  usage: 2,
  /** A service did not answer. */
  unreachable: 3,
  /** The token is missing, unknown (401) or lacks the scope (403). */
  auth: 4,
  /** No such job, pool, runner, host or dead letter. */
  notFound: 5,
  /** The service refused the change (400, 409): the message says why. */
  refused: 6,
  /** The service failed (5xx). */
  failed: 7,
} as const;

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
