export { GitHubClient, createGitHubClient, DEFAULT_KEY_PREFIX } from './client.js';
export type { GitHubClientOptions, GitHubResponse, GitHubLog, Actor, RequestParameters } from './client.js';
export { RateBudget, readRateLevels } from './rate-budget.js';
export type { BudgetOwner, SpendAnswer, RateLevel } from './rate-budget.js';
export { InstallationTokens } from './auth/token-cache.js';
export { AppJwt } from './auth/app-jwt.js';
export type { MintedToken } from './auth/token-cache.js';
export {
  GitHubError,
  UnauthorizedError,
  NotFoundError,
  ConflictError,
  ValidationError,
  RunnerBusyError,
  ForbiddenError,
  RateLimitedError,
  UnavailableError,
} from './errors.js';
export type { GitHubErrorFields, RateLimit } from './errors.js';
export { backoffDelayMs, classifyFailure, nextStep, DEFAULT_RETRY_POLICY } from './retry.js';
export type { RetryPolicy, Failure } from './retry.js';
export { nextLink, nextCursor } from './link-header.js';
export { repoInstallation, orgInstallation, listInstallations, listInstallationRepositories } from './installations.js';
export type { Installation, Repository } from './installations.js';
export { generateJitConfig, getRunner, listRunners, deleteRunner, listRunnerGroups, resolveRunnerGroup, DEFAULT_RUNNER_GROUP_ID } from './runners.js';
export type { Runner, RunnerGroup, RunnerScope, JitConfigRequest, JitRegistration } from './runners.js';
export { runnerLabels, conflictingLabels, labelsMatch, ASSUMED_PLATFORM, SELF_HOSTED_LABEL, RUNNER_OS_LABELS, RUNNER_ARCHITECTURE_LABELS } from './runner-labels.js';
export type { RunnerPlatform } from './runner-labels.js';
export { createCheckRun, updateCheckRun } from './checks.js';
export type { CheckRun, CheckRunFields, CheckRunState, CheckRunConclusion } from './checks.js';
export { listDeliveries, redeliver } from './deliveries.js';
export type { HookDelivery, DeliveryQuery } from './deliveries.js';
export { getJob, getRepository, getRun, listRuns, listRunJobs } from './workflow-runs.js';
export type { WorkflowRun, Job, RunStatus, Repository as FullRepository } from './workflow-runs.js';
export { githubConfig, githubPrivateKeySecret } from './config.js';
export { webhookSourceRanges } from './meta.js';
export { ScaleSetClient } from './scale-set/client.js';
export type { ScaleSetClientOptions, ScaleSet, ScaleSetInput, ScaleSetRunner, RunnerGroupRef } from './scale-set/client.js';
export { MessageSession } from './scale-set/session.js';
export { ActionsServiceAuth, ADMIN_REFRESH_AHEAD_MS, githubUrlOf } from './scale-set/auth.js';
export type { AdminConnection } from './scale-set/auth.js';
export { parseScaleSetMessage, ScaleSetMessageError } from './scale-set/messages.js';
export type { ScaleSetMessage, JobMessage, JobMessageCommon, ScaleSetStatistics } from './scale-set/messages.js';
export {
  SessionConflictError,
  ScaleSetNotFoundError,
  SessionNotFoundError,
  RunnerExistsError,
  RunnerNotFoundError,
  QueueTokenExpiredError,
  UnexpectedAnswerError,
} from './scale-set/errors.js';
export { runnerExit } from './runner-exit.js';
export type { RunnerExit, RunnerExitKind } from './runner-exit.js';
