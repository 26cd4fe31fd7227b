import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.js';
import { RateLimitedError, RunnerBusyError, ValidationError } from './errors.js';
import { sleep } from './backoff.js';

export type Runner = components['schemas']['runner'];
export type RunnerGroup = components['schemas']['runner-groups-org'];

/** Where runners register: one repository, or an organization. */
export type RunnerScope = { installationId: number; repository: string } | { installationId: number; org: string };

function scopePath(scope: RunnerScope): { prefix: string; parameters: Record<string, string> } {
  if ('repository' in scope) {
    const [owner, repo] = scope.repository.split('/');
    return { prefix: '/repos/{owner}/{repo}', parameters: { owner: owner ?? '', repo: repo ?? '' } };
  }
  return { prefix: '/orgs/{org}', parameters: { org: scope.org } };
}

export interface JitConfigRequest {
  name: string;
  /** Custom labels; GitHub adds self-hosted, the OS and the architecture itself. */
  labels: string[];
  runnerGroupId?: number;
  workFolder?: string;
  /** Wait for a JIT slot when the App's per-minute budget is spent, up to this long; else throw. */
  waitForSlotMs?: number;
}

/**
 * Registers a just-in-time runner. The answer's `encodedJitConfig` registers a runner with GitHub:
 * hand it to the executor only, never log it. Spends one slot of the App's JIT budget.
 */
export async function generateJitConfig(gh: GitHubClient, scope: RunnerScope, input: JitConfigRequest): Promise<{ runner: Runner; encodedJitConfig: string }> {
  const deadline = Date.now() + (input.waitForSlotMs ?? 0);
  for (;;) {
    const waitMs = await gh.budget.takeJitSlot(gh.appId);
    if (waitMs === 0) break;
    if (Date.now() + waitMs > deadline) {
      throw new RateLimitedError(429, `generate-jitconfig ${input.name}`, 'JIT registration budget for this minute is spent', undefined, waitMs, true);
    }
    await sleep(waitMs);
  }
  const { prefix, parameters } = scopePath(scope);
  const response = await gh.request<{ runner: Runner; encoded_jit_config: string }>(
    { installationId: scope.installationId },
    `POST ${prefix}/actions/runners/generate-jitconfig`,
    { ...parameters, name: input.name, labels: input.labels, runner_group_id: input.runnerGroupId ?? 1, work_folder: input.workFolder ?? '_work' },
  );
  return { runner: response.data.runner, encodedJitConfig: response.data.encoded_jit_config };
}

export async function getRunner(gh: GitHubClient, scope: RunnerScope, runnerId: number): Promise<Runner> {
  const { prefix, parameters } = scopePath(scope);
  return (await gh.request<Runner>({ installationId: scope.installationId }, `GET ${prefix}/actions/runners/{runner_id}`, { ...parameters, runner_id: runnerId })).data;
}

/** Runners whose name starts with `prefix` (GitHub's `name` filter is an exact match, so this pages). */
export async function listRunners(gh: GitHubClient, scope: RunnerScope, namePrefix = ''): Promise<Runner[]> {
  const { prefix, parameters } = scopePath(scope);
  const found: Runner[] = [];
  for await (const runner of gh.paginate({ installationId: scope.installationId }, `GET ${prefix}/actions/runners`, parameters, (data) => (data as { runners: Runner[] }).runners)) {
    if (runner.name.startsWith(namePrefix)) found.push(runner);
  }
  return found;
}

/** Removes a registration. A runner still running a job is refused with RunnerBusyError (retry later). */
export async function deleteRunner(gh: GitHubClient, scope: RunnerScope, runnerId: number): Promise<void> {
  const { prefix, parameters } = scopePath(scope);
  try {
    await gh.request({ installationId: scope.installationId }, `DELETE ${prefix}/actions/runners/{runner_id}`, { ...parameters, runner_id: runnerId });
  } catch (error) {
    if (error instanceof ValidationError && /still running a job/i.test(error.githubMessage)) {
      throw new RunnerBusyError(error.status, error.call, error.githubMessage, error.requestId);
    }
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

/** A runner group's id from its name; repository runners only have the default group (1). */
export async function resolveRunnerGroup(gh: GitHubClient, scope: RunnerScope, name: string): Promise<number> {
  if (!name || name.toLowerCase() === 'default') return 1;
  if ('repository' in scope) throw new ValidationError(422, `runner group ${name}`, 'repository runners can only join the Default group', undefined);
  const group = (await listRunnerGroups(gh, scope.installationId, scope.org)).find((g) => g.name.toLowerCase() === name.toLowerCase());
  if (!group) throw new ValidationError(404, `runner group ${name}`, `organization ${scope.org} has no runner group named ${name}`, undefined);
  return group.id;
}
