/**
 * The scheduler's view of one GitHub job, folded from workflow_job events that may arrive in any
 * order, more than once, or not at all. Statuses only move forward (pending → in_progress →
 * completed); a late or repeated event never moves a job back, but may still fill in what an earlier
 * one lacked (a runner name, a start time). Pure: no I/O, so properties can be checked exhaustively.
 */

/** GitHub's statuses before a runner took the job; `waiting` (environment gate) and `queued` may alternate. */
export type PendingStatus = 'queued' | 'waiting' | 'pending' | 'requested';
export type JobStatus = PendingStatus | 'in_progress' | 'completed';

export interface JobEvent {
  status: JobStatus;
  conclusion?: string;
  runnerId?: number;
  runnerName?: string;
  createdAt?: Date;
  startedAt?: Date;
  completedAt?: Date;
}

/** The folded state has the same fields as an event: what GitHub last told us, field by field. */
export type JobState = JobEvent;

/** What changed, for the job facts the scheduler publishes. */
export type Transition = 'queued' | 'started' | 'completed';

export const RANK: Record<JobStatus, number> = { queued: 0, waiting: 0, pending: 0, requested: 0, in_progress: 1, completed: 2 };

export function isPending(status: JobStatus): status is PendingStatus {
  return RANK[status] === 0;
}

/**
 * Folds one event into the state and says which transitions it caused, if any. A job first heard of
 * when it is already done yields only `completed` (a job cancelled while queued looks like that);
 * one first heard of running yields `queued` then `started`.
 * Between `queued` and `waiting` the latest event wins: GitHub sends no sequence number, so two
 * pending events arriving out of order cannot be told apart; both mean "no runner has it yet".
 */
export function applyJobEvent(state: JobState | undefined, e: JobEvent): { state: JobState; transitions: Transition[] } {
  if (!state) {
    const fresh: JobState = { ...fill({ status: e.status }, e) };
    // A job first heard of running did queue: its queued event was lost or is still on its way
    // (a redelivery, or the reconciler, finds it later). Counting it as queued keeps every job
    // that ran in the queued figures; the late queued event then changes nothing.
    return { state: fresh, transitions: e.status === 'in_progress' ? ['queued', 'started'] : [firstTransition(e.status)] };
  }
  const forward = RANK[e.status] > RANK[state.status];
  // Within the pending rank the latest word wins (queued ↔ waiting); beyond it, only forward.
  const sameRankPending = RANK[e.status] === 0 && RANK[state.status] === 0;
  const status = forward || sameRankPending ? e.status : state.status;
  const next = fill({ ...state, status }, e);
  const transitions: Transition[] = [];
  if (forward) transitions.push(firstTransition(e.status));
  return { state: next, transitions };
}

function firstTransition(status: JobStatus): Transition {
  return status === 'completed' ? 'completed' : status === 'in_progress' ? 'started' : 'queued';
}

/** Fields only ever gain values; a conclusion is taken only from a completed event. */
function fill(s: JobState, e: JobEvent): JobState {
  return {
    ...s,
    conclusion: s.conclusion ?? (e.status === 'completed' ? e.conclusion : undefined),
    runnerId: s.runnerId || e.runnerId || undefined,
    runnerName: s.runnerName || e.runnerName || undefined,
    createdAt: s.createdAt ?? e.createdAt,
    startedAt: s.startedAt ?? (RANK[e.status] >= 1 ? e.startedAt : undefined),
    completedAt: s.completedAt ?? (e.status === 'completed' ? e.completedAt : undefined),
  };
}
