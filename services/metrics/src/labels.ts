import {
  jobConclusionWord,
  QueueReason,
  RemovalReason,
  RunnerFailureReason,
  RunnerState,
  UnmatchedReason,
  WorkflowJobConclusion,
  type Timestamp,
} from '@runnerhub/contracts';

/**
 * Label values come from small, fixed vocabularies (enum names, pool and host names, stream and
 * consumer names), never from free text or ids, so every metric has a bounded number of series.
 */

/** An enum value as a label: `RunnerFailureReason.IMAGE_PULL` → `image_pull`. */
export function enumLabel(names: object, value: number): string {
  const name = (names as Record<number, string | undefined>)[value];
  return name ? name.toLowerCase() : 'unknown';
}

/** Every value of a generated enum but UNSPECIFIED (0). */
function enumValues(e: object): number[] {
  return Object.values(e as Record<string, unknown>).filter((v): v is number => typeof v === 'number' && v > 0);
}

export const failureReason = (r: RunnerFailureReason) => enumLabel(RunnerFailureReason, r);
export const removalReason = (r: RemovalReason) => enumLabel(RemovalReason, r);
export const unmatchedReason = (r: UnmatchedReason) => enumLabel(UnmatchedReason, r);
export const queueReason = (r: QueueReason) => enumLabel(QueueReason, r);
export const runnerState = (s: RunnerState) => enumLabel(RunnerState, s);

export const FAILURE_REASONS = enumValues(RunnerFailureReason).map((v) => enumLabel(RunnerFailureReason, v));
export const UNMATCHED_REASONS = enumValues(UnmatchedReason).map((v) => enumLabel(UnmatchedReason, v));
export const STUCK_REASONS = enumValues(QueueReason).map((v) => enumLabel(QueueReason, v));
export const DEAD_LETTER_REASONS = ['undecodable', 'permanent_error', 'retries_exhausted', 'no_outcome', 'other'] as const;
export const CONCLUSIONS = ['success', 'failure', 'neutral', 'cancelled', 'skipped', 'timed_out', 'action_required'] as const;
export const EXIT_REASONS = ['completed', 'error', 'oom'] as const;
export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
/** The states pool.snapshot counts (finished, removed and failed runners are history, not supply). */
export const LIVE_RUNNER_STATES = ['requested', 'registered', 'starting', 'idle', 'busy'] as const;

/** GitHub's conclusion word; `unknown` for a value GitHub added after our enum. */
export function conclusionLabel(c: WorkflowJobConclusion): string {
  return jobConclusionWord(c) ?? 'unknown';
}

/** `cicd.pipeline.result` (OpenTelemetry CI/CD registry) for a GitHub conclusion. */
export function cicdResult(c: WorkflowJobConclusion): string {
  switch (c) {
    case WorkflowJobConclusion.SUCCESS:
    case WorkflowJobConclusion.NEUTRAL:
      return 'success';
    case WorkflowJobConclusion.FAILURE:
      return 'failure';
    case WorkflowJobConclusion.CANCELLED:
      return 'cancellation';
    case WorkflowJobConclusion.SKIPPED:
      return 'skip';
    case WorkflowJobConclusion.TIMED_OUT:
      return 'timeout';
    case WorkflowJobConclusion.ACTION_REQUIRED:
    case WorkflowJobConclusion.UNSPECIFIED:
      return 'error';
  }
  return 'error';
}

/** `cicd.worker.state` for a runner state: idle runners are available, starting ones offline. */
export function workerState(state: (typeof LIVE_RUNNER_STATES)[number]): 'available' | 'busy' | 'offline' {
  if (state === 'idle') return 'available';
  if (state === 'busy') return 'busy';
  return 'offline';
}

/**
 * The dead-letter reason is free text from the consumer (platform nats/consume.ts writes it); the
 * label is its kind.
 */
export function deadLetterReason(reason: string): string {
  if (reason.startsWith('undecodable')) return 'undecodable';
  if (reason.startsWith('permanent error')) return 'permanent_error';
  if (/^failed \d+ of \d+ deliveries/.test(reason)) return 'retries_exhausted';
  if (reason.startsWith('delivered ')) return 'no_outcome';
  return 'other';
}

/** The pool a job fact names; `none` for a job no pool of ours took. */
export const poolLabel = (pool: string | undefined): string => (pool ? pool : 'none');

/** Seconds between two timestamps, or undefined when either is missing or time runs backwards. */
export function secondsBetween(from: Timestamp | undefined, to: Timestamp | undefined): number | undefined {
  if (!from || !to || from.seconds === 0n || to.seconds === 0n) return undefined;
  const s = Number(to.seconds - from.seconds) + (to.nanos - from.nanos) / 1e9;
  return s >= 0 ? s : undefined;
}

export function timestampSeconds(t: Timestamp | undefined): number | undefined {
  if (!t || t.seconds === 0n) return undefined;
  return Number(t.seconds) + t.nanos / 1e9;
}

/** At most `max` distinct values; the rest become `other` (a cardinality cap, as in the OTel SDK). */
export function cappedValues(max: number): (value: string) => string {
  const kept = new Set<string>();
  return (value) => {
    const v = value || 'unknown';
    if (kept.has(v)) return v;
    if (kept.size >= max) return 'other';
    kept.add(v);
    return v;
  };
}
