/**
 * What went wrong with a GitHub call, as types a caller can act on. Messages name the call and
 * carry GitHub's own words; they never contain a token.
 */
export class GitHubError extends Error {
  constructor(
    readonly status: number,
    readonly call: string,
    readonly githubMessage: string,
    readonly requestId: string | undefined,
  ) {
    super(`${call}: ${status} ${githubMessage}`);
    this.name = new.target.name;
  }
}

export class UnauthorizedError extends GitHubError {}
export class NotFoundError extends GitHubError {}
export class ConflictError extends GitHubError {}
/** 422: GitHub understood and refused. */
export class ValidationError extends GitHubError {}
/** 422 on DELETE runner: "still running a job". Try again once the job ends. */
export class RunnerBusyError extends ValidationError {}

export class ForbiddenError extends GitHubError {
  constructor(
    status: number,
    call: string,
    githubMessage: string,
    requestId: string | undefined,
    /** From `x-accepted-github-permissions`, e.g. `administration=write`. */
    readonly acceptedPermissions: string | undefined,
  ) {
    super(status, call, acceptedPermissions ? `${githubMessage} (needs ${acceptedPermissions})` : githubMessage, requestId);
  }
}

export class RateLimitedError extends GitHubError {
  constructor(
    status: number,
    call: string,
    githubMessage: string,
    requestId: string | undefined,
    /** When the call may be tried again. */
    readonly retryAfterMs: number,
    /** A secondary (abuse) limit rather than the hourly budget. */
    readonly secondary: boolean,
  ) {
    super(status, call, githubMessage, requestId);
  }
}

/** 5xx or the network, after the retries ran out. */
export class UnavailableError extends GitHubError {}
