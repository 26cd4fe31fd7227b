import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.js';

export type CheckRun = components['schemas']['check-run'];

export interface CheckRunFields {
  name?: string;
  head_sha?: string;
  details_url?: string;
  external_id?: string;
  status?: 'queued' | 'in_progress' | 'completed';
  started_at?: string;
  conclusion?: 'action_required' | 'cancelled' | 'failure' | 'neutral' | 'success' | 'skipped' | 'timed_out';
  completed_at?: string;
  output?: { title: string; summary: string; text?: string };
}

export async function createCheckRun(gh: GitHubClient, installationId: number, repository: string, fields: CheckRunFields & { name: string; head_sha: string }): Promise<CheckRun> {
  const [owner, repo] = repository.split('/');
  return (await gh.request<CheckRun>({ installationId }, 'POST /repos/{owner}/{repo}/check-runs', { owner, repo, ...fields })).data;
}

export async function updateCheckRun(gh: GitHubClient, installationId: number, repository: string, checkRunId: number | bigint, fields: CheckRunFields): Promise<CheckRun> {
  const [owner, repo] = repository.split('/');
  return (await gh.request<CheckRun>({ installationId }, 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { owner, repo, check_run_id: String(checkRunId), ...fields })).data;
}
