import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.js';

export type CheckRun = components['schemas']['check-run'];

export type CheckRunConclusion = 'action_required' | 'cancelled' | 'failure' | 'neutral' | 'success' | 'skipped' | 'timed_out';

/**
 * GitHub requires a conclusion with `status: completed`, and a conclusion forces `completed`
 * (github-contract.md §7): the type says so, so the mistake cannot reach GitHub.
 */
export type CheckRunState = { status?: 'queued' | 'in_progress'; conclusion?: never } | { status?: 'completed'; conclusion: CheckRunConclusion; completed_at?: string };

export type CheckRunFields = CheckRunState & {
  name?: string;
  head_sha?: string;
  details_url?: string;
  external_id?: string;
  started_at?: string;
  output?: { title: string; summary: string; text?: string };
};

/** A check run of the App's own (checks: write). Another App's check run, e.g. the job's own, cannot be changed. */
export async function createCheckRun(gh: GitHubClient, installationId: number, repository: string, fields: CheckRunFields & { name: string; head_sha: string }): Promise<CheckRun> {
  const [owner, repo] = repository.split('/');
  return (await gh.request<CheckRun>({ installationId }, 'POST /repos/{owner}/{repo}/check-runs', { owner, repo, ...fields })).data;
}

export async function updateCheckRun(gh: GitHubClient, installationId: number, repository: string, checkRunId: number | bigint, fields: CheckRunFields): Promise<CheckRun> {
  const [owner, repo] = repository.split('/');
  return (await gh.request<CheckRun>({ installationId }, 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { owner, repo, check_run_id: String(checkRunId), ...fields })).data;
}
