import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.js';

export type WorkflowRun = components['schemas']['workflow-run'];
export type Job = components['schemas']['job'];

/**
 * Run statuses worth sweeping. A run that started some jobs is `in_progress` while later jobs still
 * wait, so a sweep for queued jobs lists `queued` and `in_progress` runs (github-contract.md §9).
 */
export type RunStatus = 'queued' | 'in_progress' | 'waiting' | 'requested' | 'pending';

/** Runs of a repository in one status (installation token, Actions: read). GitHub returns at most 1,000. */
export async function listRuns(gh: GitHubClient, installationId: number, repository: string, status: RunStatus): Promise<WorkflowRun[]> {
  const [owner, repo] = repository.split('/');
  const runs: WorkflowRun[] = [];
  for await (const run of gh.paginate({ installationId }, 'GET /repos/{owner}/{repo}/actions/runs', { owner, repo, status }, (data) => (data as { workflow_runs: WorkflowRun[] }).workflow_runs)) {
    runs.push(run);
  }
  return runs;
}

/** The jobs of a run's latest attempt; keep those with `status === 'queued'` to find work without a runner. */
export async function listRunJobs(gh: GitHubClient, installationId: number, repository: string, runId: number): Promise<Job[]> {
  const [owner, repo] = repository.split('/');
  const jobs: Job[] = [];
  for await (const job of gh.paginate({ installationId }, 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', { owner, repo, run_id: runId }, (data) => (data as { jobs: Job[] }).jobs)) {
    jobs.push(job);
  }
  return jobs;
}

/** One job as GitHub sees it now (Actions: read): the reconciler's question about a job no list showed. */
export async function getJob(gh: GitHubClient, installationId: number, repository: string, jobId: number): Promise<Job> {
  const [owner, repo] = repository.split('/');
  return (await gh.request<Job>({ installationId }, 'GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner, repo, job_id: jobId })).data;
}

/** One run (Actions: read): its trigger (`event`) and where its code comes from (`head_repository`). */
export async function getRun(gh: GitHubClient, installationId: number, repository: string, runId: number): Promise<WorkflowRun> {
  const [owner, repo] = repository.split('/');
  return (await gh.request<WorkflowRun>({ installationId }, 'GET /repos/{owner}/{repo}/actions/runs/{run_id}', { owner, repo, run_id: runId })).data;
}

export type Repository = components['schemas']['full-repository'];

/** One repository (Metadata: read): whether it is public (`private`, `visibility`). */
export async function getRepository(gh: GitHubClient, installationId: number, repository: string): Promise<Repository> {
  const [owner, repo] = repository.split('/');
  return (await gh.request<Repository>({ installationId }, 'GET /repos/{owner}/{repo}', { owner, repo })).data;
}
