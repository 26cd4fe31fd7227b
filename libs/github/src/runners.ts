import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.js';
import { NotFoundError, RateLimitedError, RunnerBusyError, ValidationError } from './errors.js';
import { sleep } from './retry.js';
import { ASSUMED_PLATFORM, runnerLabels, type RunnerPlatform } from './runner-labels.js';

export type Runner = components['schemas']['runner'];
export type RunnerGroup = components['schemas']['runner-groups-org'];

/** Where runners register: one repository (`owner/name`), or an organization. */
export type RunnerScope = { installationId: number; repository: string } | { installationId: number; org: string };

function scopePath(scope: RunnerScope): { prefix: string; parameters: Record<string, string> } {
  if ('repository' in scope) {
    const [owner = '', repo = ''] = scope.repository.split('/');
    return { prefix: '/repos/{owner}/{repo}', parameters: { owner, repo } };
  }
  return { prefix: '/orgs/{org}', parameters: { org: scope.org } };
}

/** GitHub's own default group; the only one a repository runner can join. */
export const DEFAULT_RUNNER_GROUP_ID = 1;

export interface JitConfigRequest {
  name: string;
  /**
   * The pool's own labels. GitHub adds nothing to a JIT runner's labels (docs/github-app.md
   * "Labels"), so the registration carries runnerLabels(platform, labels): self-hosted, the host's
   * OS and architecture, then these.
   */
  labels: string[];
  /** The host the runner will run on; ASSUMED_PLATFORM (Linux X64) until its executor reports it. */
  platform?: RunnerPlatform;
  runnerGroupId?: number;
  workFolder?: string;
  /** Wait up to this long for a slot when the App's per-minute JIT budget is spent; else (default) throw RateLimitedError. */
  waitForSlotMs?: number;
}

export interface JitRegistration {
  runner: Runner;
  /** Registers a runner with GitHub: hand it to the executor only, never log it. */
  encodedJitConfig: string;
}

/**
 * Registers a just-in-time runner, spending one slot of the App's JIT budget shared by every
 * service. A 409 (ConflictError) means the name is taken, possibly by this very registration when
 * an earlier attempt reached GitHub but its answer did not reach us: delete by name and register again.
 */
export async function generateJitConfig(gh: GitHubClient, scope: RunnerScope, input: JitConfigRequest): Promise<JitRegistration> {
  const { prefix, parameters } = scopePath(scope);
  const route = `POST ${prefix}/actions/runners/generate-jitconfig`;
  const deadline = Date.now() + (input.waitForSlotMs ?? 0);
  for (;;) {
    const waitMs = await gh.budget.takeJitSlot();
    if (waitMs === 0) break;
    if (Date.now() + waitMs > deadline) {
      throw new RateLimitedError(
        { ...gh.describe(route, parameters), status: 0, githubMessage: "not sent: the App's JIT registration budget for this minute is spent", requestId: undefined },
        { retryAfterMs: waitMs, resetAt: new Date(Date.now() + waitMs), secondary: true },
      );
    }
    await sleep(waitMs);
  }
  try {
    const response = await gh.request<{ runner: Runner; encoded_jit_config: string }>({ installationId: scope.installationId }, route, {
      ...parameters,
      name: input.name,
      labels: runnerLabels(input.platform ?? ASSUMED_PLATFORM, { labels: input.labels }),
      runner_group_id: input.runnerGroupId ?? DEFAULT_RUNNER_GROUP_ID,
      work_folder: input.workFolder ?? '_work',
    });
    return { runner: response.data.runner, encodedJitConfig: response.data.encoded_jit_config };
  } catch (error) {
    // GitHub's JIT secondary limit is per App: stop every installation's registrations, not just this one's.
    if (error instanceof RateLimitedError && error.secondary && error.status > 0) await gh.budget.blockJit(error.retryAfterMs);
    throw error;
  }
}

export async function getRunner(gh: GitHubClient, scope: RunnerScope, runnerId: number): Promise<Runner> {
  const { prefix, parameters } = scopePath(scope);
  return (await gh.request<Runner>({ installationId: scope.installationId }, `GET ${prefix}/actions/runners/{runner_id}`, { ...parameters, runner_id: runnerId })).data;
}

/** Runners whose name starts with `namePrefix`. GitHub's `name` filter is an exact match, so this pages through all. */
export async function listRunners(gh: GitHubClient, scope: RunnerScope, namePrefix = ''): Promise<Runner[]> {
  const { prefix, parameters } = scopePath(scope);
  const found: Runner[] = [];
  for await (const runner of gh.paginate({ installationId: scope.installationId }, `GET ${prefix}/actions/runners`, parameters, (data) => (data as { runners: Runner[] }).runners)) {
    if (runner.name.startsWith(namePrefix)) found.push(runner);
  }
  return found;
}

/** Removes a registration (GitHub answers 204). A runner still running a job is refused with RunnerBusyError: retry later. */
export async function deleteRunner(gh: GitHubClient, scope: RunnerScope, runnerId: number): Promise<void> {
  const { prefix, parameters } = scopePath(scope);
  try {
    await gh.request({ installationId: scope.installationId }, `DELETE ${prefix}/actions/runners/{runner_id}`, { ...parameters, runner_id: runnerId });
  } catch (error) {
    // GitHub gives this refusal no code of its own; its message is the only way to tell it from other 422s.
    if (error instanceof ValidationError && /still running a job/i.test(error.githubMessage)) throw new RunnerBusyError(error);
    throw error;
  }
}

export async function listRunnerGroups(gh: GitHubClient, installationId: number, org: string): Promise<RunnerGroup[]> {
  const groups: RunnerGroup[] = [];
  for await (const group of gh.paginate({ installationId }, 'GET /orgs/{org}/actions/runner-groups', { org }, (data) => (data as { runner_groups: RunnerGroup[] }).runner_groups)) {
    groups.push(group);
  }
  return groups;
}

/**
 * A runner group's id from its name (case-insensitive, as GitHub compares them). Repository runners
 * only have the Default group; an unknown name is a NotFoundError naming the organization.
 */
export async function resolveRunnerGroup(gh: GitHubClient, scope: RunnerScope, name: string): Promise<number> {
  if (!name || name.toLowerCase() === 'default') return DEFAULT_RUNNER_GROUP_ID;
  if ('repository' in scope) {
    throw new ValidationError({
      ...gh.describe('GET /repos/{owner}/{repo}/actions/runners', scopePath(scope).parameters),
      status: 0,
      githubMessage: `repository runners can only join the Default group, not ${name}`,
      requestId: undefined,
    });
  }
  const group = (await listRunnerGroups(gh, scope.installationId, scope.org)).find((g) => g.name.toLowerCase() === name.toLowerCase());
  if (!group) {
    throw new NotFoundError({
      ...gh.describe('GET /orgs/{org}/actions/runner-groups', { org: scope.org }),
      status: 0,
      githubMessage: `organization ${scope.org} has no runner group named ${name}`,
      requestId: undefined,
    });
  }
  return group.id;
}
