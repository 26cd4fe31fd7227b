import type { JobConclusion, ScaleSetStatistics } from './api.js';
import type { Job } from './world.js';

/**
 * The job messages a scale set's queue carries, in the shape actions/scaleset decodes
 * (types.go:21-62): a common base plus the fields of each type. Unset timestamps are Go's zero
 * time, which is what a Go client reads for them anyway.
 */

export type JobMessageType = 'JobAvailable' | 'JobAssigned' | 'JobStarted' | 'JobCompleted';
export type JobMessage = Record<string, unknown> & { messageType: string };

export type Statistics = ScaleSetStatistics;

/** The queue message: `body` is a JSON string holding the job messages (client.go:501-567). */
export interface QueueMessage {
  messageId: number;
  messageType: 'RunnerScaleSetJobMessages';
  body: string;
  statistics: Statistics;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';
/** A queue message carries at most 50 job messages (actions/scaleset README "Autoscaling"). */
export const MAX_JOB_MESSAGES = 50;

const time = (ms: number | null | undefined): string => (ms === null || ms === undefined ? ZERO_TIME : new Date(ms).toISOString());

/** Azure Pipelines' task results, as JobCompleted reports them (README: `result: "canceled"`). */
export function jobResult(conclusion: JobConclusion | null): string {
  switch (conclusion) {
    case 'success':
      return 'succeeded';
    case 'cancelled':
      return 'canceled';
    case 'skipped':
      return 'skipped';
    case 'failure':
    case 'timed_out':
    case null:
      return 'failed';
  }
}

export interface JobMessageFields {
  runnerRequestId: number;
  /** When the scale set got the job (its claim). */
  assignedAt?: number;
  runner?: { id: number; name: string };
  /** JobCompleted. */
  result?: string;
  /** JobAvailable. */
  acquireJobUrl?: string;
}

export function jobMessage(type: JobMessageType, job: Job, fields: JobMessageFields): JobMessage {
  const message: JobMessage = {
    messageType: type,
    runnerRequestId: fields.runnerRequestId,
    repositoryName: job.repo.name,
    ownerName: job.repo.owner.login,
    jobId: job.scaleSetJobId,
    jobWorkflowRef: `${job.repo.fullName}/.github/workflows/ci.yml@refs/heads/${job.run.headBranch}`,
    jobDisplayName: job.name,
    workflowRunId: job.run.id,
    eventName: 'push',
    requestLabels: [...job.labels],
    queueTime: time(job.createdAt),
    scaleSetAssignTime: time(fields.assignedAt),
    runnerAssignTime: time(type === 'JobStarted' || type === 'JobCompleted' ? job.startedAt : null),
    finishTime: time(type === 'JobCompleted' ? job.completedAt : null),
  };
  if (type === 'JobAvailable') message['acquireJobUrl'] = fields.acquireJobUrl ?? '';
  if (type === 'JobStarted' || type === 'JobCompleted') {
    message['runnerId'] = fields.runner?.id ?? 0;
    message['runnerName'] = fields.runner?.name ?? '';
  }
  if (type === 'JobCompleted') message['result'] = fields.result ?? 'failed';
  return message;
}
