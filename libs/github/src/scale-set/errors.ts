import { ConflictError, errorForStatus, GitHubError, NotFoundError, RunnerBusyError, UnauthorizedError, type GitHubErrorFields } from '../errors.js';

/**
 * The Actions service's refusals as types (never match on message text). It answers
 * `{ typeName, message }` (actions/scaleset errors.go); `typeName` is assembly-qualified, so the
 * short exception name is what is matched, as the Go client does (errors.go:88-97).
 */

/** GitHubError fields plus the exception the Actions service named. */
export interface ActionsErrorFields extends GitHubErrorFields {
  typeName: string | undefined;
}

/** 409 on session create: another session is active (a live listener, or a killed one's ghost). Wait and try again. */
export class SessionConflictError extends ConflictError {
  readonly typeName = 'RunnerScaleSetSessionConflictException';
}
/** 404: the scale set is gone (deleted, or GitHub dropped it after 7 days without a listener). Find or create it again. */
export class ScaleSetNotFoundError extends NotFoundError {
  readonly typeName = 'RunnerScaleSetNotFoundException';
}
/** 404: the session is gone (closed, or expired while nobody polled). Open a new one. */
export class SessionNotFoundError extends NotFoundError {
  readonly typeName = 'RunnerScaleSetSessionNotFoundException';
}
/** 409 on generatejitconfig: the runner name is taken (maybe by our own earlier attempt). */
export class RunnerExistsError extends ConflictError {
  readonly typeName = 'AgentExistsException';
}
export class RunnerNotFoundError extends NotFoundError {
  readonly typeName = 'AgentNotFoundException';
}
/** The queue token was refused again right after a session refresh. */
export class QueueTokenExpiredError extends UnauthorizedError {}
/** An answer whose status was right but whose body was not what the protocol says. */
export class UnexpectedAnswerError extends GitHubError {}

const BY_EXCEPTION: [string, new (fields: GitHubErrorFields) => GitHubError][] = [
  ['RunnerScaleSetSessionConflictException', SessionConflictError],
  ['RunnerScaleSetSessionNotFoundException', SessionNotFoundError],
  ['RunnerScaleSetNotFoundException', ScaleSetNotFoundError],
  ['AgentExistsException', RunnerExistsError],
  ['AgentNotFoundException', RunnerNotFoundError],
  // The REST API says the same thing as a 422 (runners.ts): one type for "retry once the job ends".
  ['JobStillRunningException', RunnerBusyError],
];

/** `{ typeName, message }` of an error answer, when it has one (a BOM is dropped). */
export function actionsException(text: string): { typeName: string | undefined; message: string | undefined } {
  try {
    const body = JSON.parse(text.replace(/^\uFEFF/, '')) as { typeName?: unknown; message?: unknown } | null;
    return {
      typeName: typeof body?.typeName === 'string' ? body.typeName : undefined,
      message: typeof body?.message === 'string' ? body.message : undefined,
    };
  } catch {
    return { typeName: undefined, message: undefined };
  }
}

/** The typed error for a final answer: by exception name first, else by status. */
export function actionsError(fields: ActionsErrorFields): GitHubError {
  const short = fields.typeName?.split(',')[0]?.split('.').pop() ?? '';
  const known = short ? BY_EXCEPTION.find(([name]) => short === name || short.endsWith(name))?.[1] : undefined;
  return known ? new known(fields) : errorForStatus(fields, undefined);
}
