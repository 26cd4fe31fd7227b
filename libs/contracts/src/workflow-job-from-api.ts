import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { RepositoryVisibility, type WorkflowJobEvent, type WebhookDelivery } from './gen/runnerhub/v1/github_pb.js';
import { jobConclusionFromGitHub, jobStatusFromGitHub } from './github-enums.js';

/**
 * A job as GitHub's REST API shows it (`GET …/actions/jobs/{id}`, `…/runs/{id}/jobs`), shaped like
 * the `workflow_job` webhook event the scheduler folds. Used by the scheduler's missed-job
 * reconciler and by the gateway's scale-set listener, so a job is the same fact whichever way it
 * arrived: keyed by its REST id, which is what makes an intake of both kinds count it once.
 * Only the fields read are declared (octokit's `job` schema has them all).
 */
export interface ApiJob {
  id: number | bigint;
  run_id: number | bigint;
  run_attempt?: number;
  workflow_name?: string | null;
  name: string;
  labels: string[];
  status: string;
  conclusion?: string | null;
  runner_id?: number | null;
  runner_name?: string | null;
  runner_group_id?: number | null;
  runner_group_name?: string | null;
  head_sha: string;
  head_branch?: string | null;
  html_url?: string | null;
  created_at: string;
  started_at?: string | null;
  completed_at?: string | null;
  check_run_url?: string;
}

export interface ApiJobRepository {
  installationId: number;
  owner: string;
  name: string;
  /** The organization login; empty for a repository a user owns. */
  organization: string;
}

export function workflowJobEventFromApi(job: ApiJob, repo: ApiJobRepository, delivery: Partial<Omit<WebhookDelivery, '$typeName' | 'installationId'>> = {}): WorkflowJobEvent {
  return {
    $typeName: 'runnerhub.v1.WorkflowJobEvent',
    repository: { $typeName: 'runnerhub.v1.Repository', id: 0n, owner: repo.owner, name: repo.name, fullName: `${repo.owner}/${repo.name}`, visibility: RepositoryVisibility.UNSPECIFIED },
    delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', deliveryId: '', event: 'workflow_job', action: '', hookId: '', payload: new Uint8Array(), ...delivery, installationId: BigInt(repo.installationId) },
    organization: repo.organization,
    jobId: BigInt(job.id),
    runId: BigInt(job.run_id),
    runAttempt: job.run_attempt ?? 1,
    workflowName: job.workflow_name ?? '',
    jobName: job.name,
    labels: job.labels,
    status: jobStatusFromGitHub(job.status),
    conclusion: jobConclusionFromGitHub(job.conclusion ?? ''),
    runnerId: BigInt(job.runner_id ?? 0),
    runnerName: job.runner_name ?? '',
    runnerGroupId: BigInt(job.runner_group_id ?? 0),
    runnerGroupName: job.runner_group_name ?? '',
    headSha: job.head_sha,
    headBranch: job.head_branch ?? '',
    htmlUrl: job.html_url ?? '',
    createdAt: timestampFromDate(new Date(job.created_at)),
    ...(job.started_at ? { startedAt: timestampFromDate(new Date(job.started_at)) } : {}),
    ...(job.completed_at ? { completedAt: timestampFromDate(new Date(job.completed_at)) } : {}),
    senderLogin: '',
    checkRunUrl: job.check_run_url ?? '',
  };
}
