import { WorkflowJobConclusion, WorkflowJobStatus } from './gen/runnerhub/v1/github_pb.js';

/**
 * GitHub's workflow_job status and conclusion words ↔ our enums, in one place: the gateway maps
 * words to enums on the way in, the scheduler maps them back for its table and its answers.
 */

const STATUS: Record<string, WorkflowJobStatus> = {
  queued: WorkflowJobStatus.QUEUED,
  waiting: WorkflowJobStatus.WAITING,
  in_progress: WorkflowJobStatus.IN_PROGRESS,
  completed: WorkflowJobStatus.COMPLETED,
  pending: WorkflowJobStatus.PENDING,
  requested: WorkflowJobStatus.REQUESTED,
};

const CONCLUSION: Record<string, WorkflowJobConclusion> = {
  success: WorkflowJobConclusion.SUCCESS,
  failure: WorkflowJobConclusion.FAILURE,
  neutral: WorkflowJobConclusion.NEUTRAL,
  cancelled: WorkflowJobConclusion.CANCELLED,
  skipped: WorkflowJobConclusion.SKIPPED,
  timed_out: WorkflowJobConclusion.TIMED_OUT,
  action_required: WorkflowJobConclusion.ACTION_REQUIRED,
};

/** An unknown word (GitHub added a status) maps to UNSPECIFIED; the raw payload keeps the original. */
export const jobStatusFromGitHub = (word: string): WorkflowJobStatus => STATUS[word] ?? WorkflowJobStatus.UNSPECIFIED;
export const jobConclusionFromGitHub = (word: string): WorkflowJobConclusion => CONCLUSION[word] ?? WorkflowJobConclusion.UNSPECIFIED;
export const jobStatusWord = (s: WorkflowJobStatus): string | undefined => Object.keys(STATUS).find((k) => STATUS[k] === s);
export const jobConclusionWord = (c: WorkflowJobConclusion): string | undefined => Object.keys(CONCLUSION).find((k) => CONCLUSION[k] === c);
