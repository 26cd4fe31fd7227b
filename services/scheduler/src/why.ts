import { HostRefusalReason, QueueReason } from '@runnerhub/contracts';
import type { CapHit } from './levels.js';
import { admits, canServe, closestPools, refusalDetail, type PoolLabels } from './matching.js';
import type { PoolStatusView } from './pool-status.js';

/**
 * "Why is my job still queued?" from the job's state and match, the pools defined now, the caps,
 * the shared GitHub budget and the pool-manager's latest snapshot of the job's pool. Pure: the
 * caller gathers the context. The first reason that holds wins, in the order a person would fix
 * things: nothing can serve it, somebody switched it off, a limit we set, GitHub, our provisioning.
 */

export type WhyReason =
  | 'completed'
  | 'running'
  | 'not_ours'
  | 'no_pool_matches'
  | 'refused'
  | 'pool_drained'
  | 'no_capable_host'
  | 'repo_cap_reached'
  | 'org_cap_reached'
  | 'github_rate_budget_exhausted'
  | 'provisioning_failing'
  | 'runner_starting'
  | 'runner_idle_unassigned'
  | 'pool_at_maximum'
  | 'host_budget_exhausted'
  | 'waiting_for_runner';

export interface WhyAnswer {
  reason: WhyReason;
  /** One sentence for a person. */
  detail: string;
  closestPools: Array<{ pool: string; missing: string[] }>;
  /** The last provisioning error, when it explains the wait. */
  lastError: string | null;
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
  /** Where its code comes from (origin.ts); absent on rows from before that was kept. */
  publicRepository?: boolean;
  forkPullRequest?: boolean;
}

export interface WhyContext {
  /** The matched pool's definition, when it still exists. */
  pool?: { drained: boolean; maxRunners: number };
  /** The pool-manager's latest view of the pool; undefined when no fresh snapshot arrived. */
  status?: PoolStatusView;
  /** The cap that holds the job back, if one does. */
  capHit?: CapHit;
  /** The shared GitHub budget of the job's installation, when the App is configured. */
  budget?: { ok: boolean; retryAfterMs: number };
  now?: Date;
}

/** Reasons that are capacity working as intended, not a job stuck while capacity exists. */
export const EXPECTED_WAITS: ReadonlySet<WhyReason> = new Set(['pool_drained', 'repo_cap_reached', 'org_cap_reached', 'pool_at_maximum']);

export const QUEUE_REASONS: Partial<Record<WhyReason, QueueReason>> = {
  no_pool_matches: QueueReason.NO_POOL_MATCHES,
  pool_drained: QueueReason.POOL_DRAINED,
  no_capable_host: QueueReason.NO_CAPABLE_HOST,
  repo_cap_reached: QueueReason.REPO_CAP_REACHED,
  org_cap_reached: QueueReason.ORG_CAP_REACHED,
  github_rate_budget_exhausted: QueueReason.GITHUB_RATE_BUDGET_EXHAUSTED,
  provisioning_failing: QueueReason.PROVISIONING_FAILING,
  runner_starting: QueueReason.RUNNER_STARTING,
  runner_idle_unassigned: QueueReason.RUNNER_IDLE_UNASSIGNED,
  pool_at_maximum: QueueReason.POOL_AT_MAXIMUM,
  host_budget_exhausted: QueueReason.HOST_BUDGET_EXHAUSTED,
};

const CAPABILITY: ReadonlySet<HostRefusalReason> = new Set([HostRefusalReason.ARCHITECTURE, HostRefusalReason.OS, HostRefusalReason.RUNTIME]);

/**
 * When every known host refused the pool for what it is, not for what it holds now (architecture,
 * OS, runtime): "no host with ARM64 (nas1 is X64)", "host nas1 lacks sysbox-runc (has runc)".
 */
export function capabilityGap(refusals: PoolStatusView['hostRefusals']): string | undefined {
  if (!refusals || refusals.length === 0 || !refusals.every((r) => CAPABILITY.has(r.reason))) return undefined;
  const parts: string[] = [];
  for (const reason of [HostRefusalReason.ARCHITECTURE, HostRefusalReason.OS]) {
    const these = refusals.filter((r) => r.reason === reason);
    if (these.length > 0) parts.push(`no host with ${these[0]!.needed} (${these.map((r) => `${r.host} is ${r.has}`).join(', ')})`);
  }
  for (const r of refusals.filter((x) => x.reason === HostRefusalReason.RUNTIME)) parts.push(`host ${r.host} lacks ${r.needed} (has ${r.has})`);
  return parts.join('; ');
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const HOST_ROOM = /no host has room|no Docker host has reported/;

export function explain(job: WhyJob, pools: readonly PoolLabels[], ctx: WhyContext = {}): WhyAnswer {
  const answer = (reason: WhyReason, detail: string, extra: Partial<WhyAnswer> = {}): WhyAnswer => ({ reason, detail, closestPools: [], lastError: null, since: iso(job.createdAt), ...extra });
  if (job.status === 'completed') return answer('completed', `the job is not queued: it completed${job.conclusion ? ` (${job.conclusion})` : ''}`, { since: iso(job.completedAt) });
  if (job.status === 'in_progress') return answer('running', `the job is not queued: runner ${job.runnerName ?? '(unknown)'} is running it`, { since: iso(job.startedAt) });
  if (job.match === 'not_ours') {
    return answer('not_ours', `runs-on ${job.labels.join(', ')} asks for a GitHub-hosted runner; RunnerHub does not serve it (add self-hosted to runs-on to use a pool)`);
  }
  if (job.match === 'unmatched') {
    const closest = closestPools(job.labels, pools);
    const first = closest[0];
    const detail =
      first === undefined
        ? 'no pool is defined: add a pool whose labels include every runs-on label'
        : `no pool has every runs-on label (${job.labels.join(', ')}); the closest, ${first.pool}, lacks ${first.missing.join(', ')}: add those labels to a pool or change runs-on`;
    return answer('no_pool_matches', detail, { closestPools: closest });
  }
  if (job.match === 'refused') {
    const origin = { publicRepository: job.publicRepository ?? true, forkPullRequest: job.forkPullRequest ?? false };
    const serving = pools.filter((p) => canServe(job.labels, p.labels) && !admits(p, origin)).map((p) => p.name);
    return answer('refused', `RunnerHub starts no runner for this job: ${refusalDetail({ reason: origin.forkPullRequest ? 'fork_pull_request' : 'public_repository', pools: serving })}`);
  }
  const pool = job.pool ?? '?';
  if (ctx.pool?.drained || ctx.status?.drained) return answer('pool_drained', `pool ${pool} is drained: it starts no runners until an operator undrains it (DELETE /api/pools/${pool}/drain on the pool-manager)`);
  const gap = capabilityGap(ctx.status?.hostRefusals);
  if (gap) {
    return answer('no_capable_host', `no Docker host can run pool ${pool}'s runners: ${gap}. Add such a host (an executor on it), or change the pool's labels or dockerInJob`, { lastError: ctx.status?.lastError || null });
  }
  if (ctx.capHit) {
    const { scope, name, cap } = ctx.capHit;
    return answer(scope === 'repository' ? 'repo_cap_reached' : 'org_cap_reached', `${scope} ${name} already has ${cap} job${cap === 1 ? '' : 's'} waiting or running, its cap; this one gets a runner when one of them ends`);
  }
  if (ctx.budget && !ctx.budget.ok) {
    const until = new Date((ctx.now ?? new Date()).getTime() + ctx.budget.retryAfterMs);
    return answer('github_rate_budget_exhausted', `GitHub's API budget for this installation is spent until ${until.toISOString()}; no runner can be registered before then`);
  }
  const s = ctx.status;
  if (!s) return answer('waiting_for_runner', `matched to pool ${pool}; waiting for one of its runners to take the job`);
  const now = ctx.now ?? new Date();
  if (s.backoffUntil && s.backoffUntil > now) {
    return answer('provisioning_failing', `runners of pool ${pool} keep failing to start; the pool retries at ${s.backoffUntil.toISOString()}. Last error: ${s.lastError || '(none recorded)'}`, { lastError: s.lastError || null });
  }
  const booting = s.runners.requested + s.runners.registered;
  if (booting > 0) return answer('runner_starting', `${booting} runner${booting === 1 ? ' is' : 's are'} being registered and started for pool ${pool}`);
  const waiting = s.runners.starting + s.runners.idle;
  if (waiting > 0) return answer('runner_idle_unassigned', `${waiting} runner${waiting === 1 ? ' of pool ' + pool + ' is' : 's of pool ' + pool + ' are'} up and waiting; GitHub has not assigned this job yet (it usually does within seconds)`);
  const live = booting + waiting + s.runners.busy;
  if (s.maxRunners > 0 && live >= s.maxRunners) return answer('pool_at_maximum', `pool ${pool} has its maximum of ${s.maxRunners} runner${s.maxRunners === 1 ? '' : 's'}, all busy; the job waits for one to finish`);
  if (HOST_ROOM.test(s.lastError)) return answer('host_budget_exhausted', `no Docker host has room for another runner of pool ${pool}: ${s.lastError}`, { lastError: s.lastError });
  if (s.lastError) return answer('provisioning_failing', `the last attempt to start a runner of pool ${pool} failed: ${s.lastError}`, { lastError: s.lastError });
  return answer('waiting_for_runner', `matched to pool ${pool}; waiting for one of its runners to take the job`);
}
