import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.js';

export type WorkflowRun = components['schemas']['workflow-run'];
export type Job = components['schemas']['job'];

/** Runs of a repository in one status (queued, in_progress, ...): the reconciliation sweep's input. */
export async function listRuns(gh: GitHubClient, installationId: number, repository: string, status: 'queued' | 'in_progress' | 'waiting' | 'requested' | 'pending'): Promise<WorkflowRun[]> {
  const [owner, repo] = repository.split('/');
  const runs: WorkflowRun[] = [];
  for await (const run of gh.paginate({ installationId }, 'GET /repos/{owner}/{repo}/actions/runs', { owner, repo, status }, (data) => (data as { workflow_runs: WorkflowRun[] }).workflow_runs)) {
    runs.push(run);
  }
  return runs;
}

export async function listRunJobs(gh: GitHubClient, installationId: number, repository: string, runId: number): Promise<Job[]> {
  const [owner, repo] = repository.split('/');
  const jobs: Job[] = [];
  for await (const job of gh.paginate({ installationId }, 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', { owner, repo, run_id: runId }, (data) => (data as { jobs: Job[] }).jobs)) {
    jobs.push(job);
  }
  return jobs;
}
