import { closestPools, type PoolLabels } from './matching.js';

/**
 * "Why is my job still queued?" from what the scheduler knows: the job's state and match, and the
 * pools defined now. Reasons that need the pool-manager's view (pool at maximum, host budget,
 * provisioning failing, runner starting) join once it publishes pool snapshots.
 */

export type WhyReason = 'completed' | 'running' | 'not_ours' | 'no_pool_matches' | 'waiting_for_runner';

export interface WhyAnswer {
  reason: WhyReason;
  /** One sentence for a person. */
  detail: string;
  closestPools: Array<{ pool: string; missing: string[] }>;
  since: string | null;
}

export interface WhyJob {
  status: string;
  conclusion: string | null;
  match: string;
  pool: string | null;
  labels: string[];
  runnerName: string | null;
  createdAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function explain(job: WhyJob, pools: readonly PoolLabels[]): WhyAnswer {
  if (job.status === 'completed') {
    return { reason: 'completed', detail: `the job is not queued: it completed${job.conclusion ? ` (${job.conclusion})` : ''}`, closestPools: [], since: iso(job.completedAt) };
  }
  if (job.status === 'in_progress') {
    return { reason: 'running', detail: `the job is not queued: runner ${job.runnerName ?? '(unknown)'} is running it`, closestPools: [], since: iso(job.startedAt) };
  }
  if (job.match === 'not_ours') {
    return {
      reason: 'not_ours',
      detail: `runs-on ${job.labels.join(', ')} asks for a GitHub-hosted runner; RunnerHub does not serve it (add self-hosted to runs-on to use a pool)`,
      closestPools: [],
      since: iso(job.createdAt),
    };
  }
  if (job.match === 'unmatched') {
    const closest = closestPools(job.labels, pools);
    const first = closest[0];
    const detail =
      first === undefined
        ? 'no pool is defined: add a pool whose labels include every runs-on label'
        : `no pool has every runs-on label (${job.labels.join(', ')}); the closest, ${first.pool}, lacks ${first.missing.join(', ')}: add those labels to a pool or change runs-on`;
    return { reason: 'no_pool_matches', detail, closestPools: closest, since: iso(job.createdAt) };
  }
  return {
    reason: 'waiting_for_runner',
    detail: `matched to pool ${job.pool ?? '?'}; waiting for one of its runners to take the job`,
    closestPools: [],
    since: iso(job.createdAt),
  };
}
