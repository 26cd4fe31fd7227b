/**
 * Which pool should serve a job, by GitHub's rule: a runner can take a job when every label the job
 * asks for (`runs-on`) is among the runner's labels, compared case-insensitively. Pure functions.
 */

export interface PoolLabels {
  name: string;
  /** Every label a runner of this pool registers with, including `self-hosted` and OS/arch labels. */
  labels: readonly string[];
  /** Higher wins when several pools match. */
  priority: number;
  /** A drained pool is chosen only when no other can serve the job (its jobs wait until it is undrained). */
  drained?: boolean;
}

export interface PoolLoad {
  /** Pending jobs already matched to the pool plus busy runners: the least loaded pool is preferred. */
  [pool: string]: number;
}

const norm = (labels: readonly string[]) => new Set(labels.map((l) => l.trim().toLowerCase()).filter(Boolean));

/** GitHub's subset rule. A job with no labels matches nothing (GitHub never queues such a job to a self-hosted runner). */
export function canServe(jobLabels: readonly string[], runnerLabels: readonly string[]): boolean {
  const job = norm(jobLabels);
  if (job.size === 0) return false;
  const runner = norm(runnerLabels);
  for (const l of job) if (!runner.has(l)) return false;
  return true;
}

/** Labels of GitHub's own hosted runners: a job asking for one without `self-hosted` is not ours. */
const GITHUB_HOSTED = /^(ubuntu|windows|macos)-(latest|\d[\w.-]*)(-(arm|xl|large|xlarge)[\w-]*)?$/;

export function isGitHubHostedOnly(jobLabels: readonly string[]): boolean {
  const job = norm(jobLabels);
  return !job.has('self-hosted') && [...job].some((l) => GITHUB_HOSTED.test(l));
}

export type Match =
  | { kind: 'matched'; pool: string }
  | { kind: 'not_ours'; reason: string }
  | { kind: 'unmatched'; closest: Array<{ pool: string; missing: string[] }> };

/**
 * Among the pools that can serve the job: one that is not drained, then the highest priority, then
 * the most specific pool (fewest labels the job did not ask for), then the least loaded, then by
 * name so the choice is stable.
 */
export function choosePool(jobLabels: readonly string[], pools: readonly PoolLabels[], load: PoolLoad = {}): Match {
  const candidates = pools.filter((p) => canServe(jobLabels, p.labels));
  if (candidates.length === 0) {
    if (isGitHubHostedOnly(jobLabels)) return { kind: 'not_ours', reason: `runs-on ${jobLabels.join(', ')} names a GitHub-hosted runner` };
    return { kind: 'unmatched', closest: closestPools(jobLabels, pools) };
  }
  const job = norm(jobLabels);
  const extra = (p: PoolLabels) => [...norm(p.labels)].filter((l) => !job.has(l)).length;
  const best = [...candidates].sort(
    (a, b) => Number(a.drained ?? false) - Number(b.drained ?? false) || b.priority - a.priority || extra(a) - extra(b) || (load[a.name] ?? 0) - (load[b.name] ?? 0) || a.name.localeCompare(b.name),
  )[0]!;
  return { kind: 'matched', pool: best.name };
}

/** For "why is my job still queued": the pools that miss the fewest labels, and which ones. */
export function closestPools(jobLabels: readonly string[], pools: readonly PoolLabels[], count = 3): Array<{ pool: string; missing: string[] }> {
  const asked = [...norm(jobLabels)];
  return pools
    .map((p) => {
      const have = norm(p.labels);
      return { pool: p.name, missing: asked.filter((l) => !have.has(l)) };
    })
    .sort((a, b) => a.missing.length - b.missing.length || a.pool.localeCompare(b.pool))
    .slice(0, count);
}
