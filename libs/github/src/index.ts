export { GitHubClient } from './client.js';
export type { GitHubClientOptions, GitHubResponse, Actor, Parameters } from './client.js';
export { RateBudget } from './rate-budget.js';
export type { Bucket, SpendAnswer } from './rate-budget.js';
export { InstallationTokens } from './token-cache.js';
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
export { backoffDelayMs, nextLink } from './backoff.js';
export { repoInstallation, orgInstallation, listInstallations, listInstallationRepositories } from './installations.js';
export type { Installation, Repository } from './installations.js';
export { generateJitConfig, getRunner, listRunners, deleteRunner, listRunnerGroups, resolveRunnerGroup } from './runners.js';
export type { Runner, RunnerGroup, RunnerScope, JitConfigRequest } from './runners.js';
export { createCheckRun, updateCheckRun } from './checks.js';
export type { CheckRun, CheckRunFields } from './checks.js';
export { listDeliveries, redeliver } from './deliveries.js';
export type { HookDelivery } from './deliveries.js';
export { listRuns, listRunJobs } from './workflow-runs.js';
export type { WorkflowRun, Job } from './workflow-runs.js';
export { githubConfig, githubPrivateKeySecret } from './config.js';
export { webhookSourceRanges } from './meta.js';
