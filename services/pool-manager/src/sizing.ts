/**
 * How many runners a pool should have, as a level (not a reaction to single events): called on
 * every reconcile with the current counts, so a lost message or a restart changes nothing.
 *
 * desired = min(max, busy + pending demand + warm minimum). Runners not yet busy (requested,
 * registered, starting, idle) are the supply for pending jobs; GitHub hands any of them any
 * matching job, so demand is counted per pool, never per runner.
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
  /** Matched jobs waiting for this pool. */
  pending: number;
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
  /** Idle runners beyond what is wanted; the reconcile removes those past their idle timeout. */
  surplusIdle: number;
}

export function live(c: PoolCounts): number {
  return c.requested + c.registered + c.starting + c.idle + c.busy;
}

export function sizePool(input: SizingInput): SizingDecision {
  const { counts } = input;
  const notBusy = counts.requested + counts.registered + counts.starting + counts.idle;
  const wantedNotBusy = input.drained ? 0 : input.pending + input.minIdle;
  const desired = Math.min(input.maxRunners, counts.busy + wantedNotBusy);
  const room = Math.max(0, input.maxRunners - live(counts));
  const create = input.drained || input.backingOff ? 0 : Math.min(room, Math.max(0, wantedNotBusy - notBusy));
  // Only idle runners can go: one being created is about to take a job, a busy one is working.
  const surplusIdle = Math.min(counts.idle, Math.max(0, notBusy - wantedNotBusy, live(counts) - input.maxRunners));
  return { desired, create, surplusIdle };
}
