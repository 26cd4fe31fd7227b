/**
 * What went wrong with a GitHub call, as types a caller can act on (never match on message text).
 * Messages name the call (method and path) and carry GitHub's own words; they never contain a
 * token: the URL is Octokit's, which redacts credentials, and we send none in a query.
 */

export interface GitHubErrorFields {
  /** HTTP status; 0 when no answer came (network error, timeout) or the refusal was our own budget. */
  status: number;
  method: string;
  /** Full request URL. */
  url: string;
  /** `METHOD /path` with the parameters filled in, e.g. `DELETE /repos/acme/app/actions/runners/23`. */
  call: string;
  githubMessage: string;
  /** `x-github-request-id`, what GitHub Support asks for. */
  requestId: string | undefined;
}

export class GitHubError extends Error {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly call: string;
  readonly githubMessage: string;
  readonly requestId: string | undefined;

  constructor(fields: GitHubErrorFields, detail?: string) {
    const status = fields.status > 0 ? `${fields.status} ` : '';
    const request = fields.requestId ? ` (request ${fields.requestId})` : '';
    super(`${fields.call}: ${status}${fields.githubMessage}${detail ? ` ${detail}` : ''}${request}`);
    this.name = new.target.name;
    this.status = fields.status;
    this.method = fields.method;
    this.url = fields.url;
    this.call = fields.call;
    this.githubMessage = fields.githubMessage;
    this.requestId = fields.requestId;
  }
}

/** 401 that a fresh token or JWT did not cure: wrong key, wrong App id, revoked installation. */
export class UnauthorizedError extends GitHubError {}
export class NotFoundError extends GitHubError {}
/** 409, e.g. `Already exists - A runner with the name … already exists.` */
export class ConflictError extends GitHubError {}
/** 422: GitHub understood the request and refused it. */
export class ValidationError extends GitHubError {}
/** 422 on DELETE runner: "still running a job". Try again once the job ends. */
export class RunnerBusyError extends ValidationError {}

export class ForbiddenError extends GitHubError {
  /** From `x-accepted-github-permissions`, e.g. `administration=write`: what the App must be granted. */
  readonly acceptedPermissions: string | undefined;

  constructor(fields: GitHubErrorFields, acceptedPermissions: string | undefined) {
    super(fields, acceptedPermissions ? `(the App needs ${acceptedPermissions})` : undefined);
    this.acceptedPermissions = acceptedPermissions;
  }
}

export interface RateLimit {
  /** How long until the call may be tried again. */
  retryAfterMs: number;
  /** When the hourly window resets (primary limit) or the secondary block ends. */
  resetAt: Date;
  /** A secondary limit (bursts, `retry-after`) rather than the spent hourly budget. */
  secondary: boolean;
}

export class RateLimitedError extends GitHubError {
  readonly retryAfterMs: number;
  readonly resetAt: Date;
  readonly secondary: boolean;

  constructor(fields: GitHubErrorFields, limit: RateLimit) {
    super(fields, `(retry in ${Math.ceil(limit.retryAfterMs / 1000)} s)`);
    this.retryAfterMs = limit.retryAfterMs;
    this.resetAt = limit.resetAt;
    this.secondary = limit.secondary;
  }
}

/** 5xx, the network or a timeout, after the retries ran out. */
export class UnavailableError extends GitHubError {}

/** The typed error for a final answer that is not a rate limit. */
export function errorForStatus(fields: GitHubErrorFields, acceptedPermissions: string | undefined): GitHubError {
  if (fields.status === 0 || fields.status >= 500) return new UnavailableError(fields);
  switch (fields.status) {
    case 401:
      return new UnauthorizedError(fields);
    case 403:
      return new ForbiddenError(fields, acceptedPermissions);
    case 404:
      return new NotFoundError(fields);
    case 409:
      return new ConflictError(fields);
    case 422:
      return new ValidationError(fields);
    default:
      return new GitHubError(fields);
  }
}
