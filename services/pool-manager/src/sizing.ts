/**
 * How many runners a pool should have, as a level (not a reaction to single events): called on
 * every reconcile with the current counts, so a lost message or a restart changes nothing.
 *
 * wanted = min(max, running + pending + warm minimum), where pending and running come from the same
 * demand snapshot of the scheduler. Taking both from one moment matters: a runner that just took a
 * job is busy in our table before the next snapshot says the job left "pending"; counting our busy
 * runners against a stale pending would create one runner too many. Likewise a runner that took a
 * job and finished since the snapshot arrived (a short job, or GitHub's in_progress webhook late)
 * took one of the jobs that snapshot may still call pending. The other way round, a runner
 * that finished is gone from our table before the snapshot says its job completed: so running counts
 * at most our busy runners, or that moment would create a runner nobody needs. GitHub hands any
 * runner any matching job, so demand is counted per pool, never per runner.
 */

export interface PoolCounts {
  /** Created or being created, not yet taking a job. */
  requested: number;
  registered: number;
  starting: number;
  idle: number;
  busy: number;
}

export interface SizingInput {
  counts: PoolCounts;
  /** Matched jobs waiting for this pool (demand snapshot). */
  pending: number;
  /** Runners that took a job after the snapshot arrived and have finished since (optional: 0). */
  finishedSinceDemand?: number;
  /** This pool's jobs in progress (same snapshot). */
  running: number;
  /** Warm runners wanted now (the pool's minimum, or its schedule's during a window). */
  minIdle: number;
  maxRunners: number;
  drained: boolean;
  /** Creation is backing off after failures. */
  backingOff: boolean;
}

export interface SizingDecision {
  desired: number;
  /** Runners to create now. */
  create: number;
  /** Waiting runners beyond what is wanted; the reconcile removes those past their idle timeout. */
  surplusIdle: number;
}

export function live(c: PoolCounts): number {
  return c.requested + c.registered + c.starting + c.idle + c.busy;
}

export function sizePool(input: SizingInput): SizingDecision {
  const { counts } = input;
  const running = Math.min(input.running, counts.busy);
  const pending = Math.max(0, input.pending - (input.finishedSinceDemand ?? 0));
  const wanted = input.drained ? 0 : Math.min(input.maxRunners, running + pending + input.minIdle);
  const total = live(counts);
  const create = input.drained || input.backingOff ? 0 : Math.max(0, Math.min(wanted, input.maxRunners) - total);
  // Only runners waiting for a job can go: one being created is about to take one, a busy one works.
  const waiting = counts.starting + counts.idle;
  const surplusIdle = Math.min(waiting, Math.max(0, total - Math.max(wanted, counts.busy)));
  return { desired: wanted, create, surplusIdle };
}
