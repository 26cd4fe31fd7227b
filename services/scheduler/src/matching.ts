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
  /** Jobs of public repositories only on a pool that says so; forks' pull requests only with both. */
  allowPublicRepositories?: boolean;
  allowForkPullRequests?: boolean;
}

/**
 * Where a job's code comes from, as far as trust goes: a public repository runs whatever anyone's
 * pull request puts in its workflow, and a pull request from a fork is code from anyone.
 */
export interface JobOrigin {
  publicRepository: boolean;
  forkPullRequest: boolean;
}

/** Whether the pool lets a job of this origin run on its runners. */
export function admits(pool: Pick<PoolLabels, 'allowPublicRepositories' | 'allowForkPullRequests'>, origin: JobOrigin): boolean {
  if (origin.forkPullRequest && !(pool.allowPublicRepositories && pool.allowForkPullRequests)) return false;
  return !origin.publicRepository || pool.allowPublicRepositories === true;
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
  | { kind: 'unmatched'; closest: Array<{ pool: string; missing: string[] }> }
  /** Pools have the labels, but none lets a job of this origin run (`pools`: the ones that matched). */
  | { kind: 'refused'; reason: RefusalReason; pools: string[] };

export type RefusalReason = 'public_repository' | 'fork_pull_request';

/** One sentence for a person: why no runner is started for the job, and the setting that would allow it. */
export function refusalDetail(match: Pick<Extract<Match, { kind: 'refused' }>, 'reason' | 'pools'>): string {
  const pools = match.pools.join(', ');
  return match.reason === 'fork_pull_request'
    ? `the job runs for a pull request from a fork (code from anyone) and no pool with its labels (${pools}) allows those; to run them anyway, set allowPublicRepositories: true and allowForkPullRequests: true on one of them (docs/security.md#public-repositories)`
    : `the repository is public (anyone's pull request can change its workflows) and no pool with the job's labels (${pools}) allows public repositories; to run its jobs, set allowPublicRepositories: true on one of them (docs/security.md#public-repositories)`;
}


/**
 * Among the pools that can serve the job: one that is not drained, then the highest priority, then
 * the most specific pool (fewest labels the job did not ask for), then the least loaded, then by
 * name so the choice is stable.
 */
export function choosePool(jobLabels: readonly string[], pools: readonly PoolLabels[], origin: JobOrigin, load: PoolLoad = {}): Match {
  const serving = pools.filter((p) => canServe(jobLabels, p.labels));
  if (serving.length === 0) {
    if (isGitHubHostedOnly(jobLabels)) return { kind: 'not_ours', reason: `runs-on ${jobLabels.join(', ')} names a GitHub-hosted runner` };
    return { kind: 'unmatched', closest: closestPools(jobLabels, pools) };
  }
  const candidates = serving.filter((p) => admits(p, origin));
  if (candidates.length === 0) return { kind: 'refused', reason: origin.forkPullRequest ? 'fork_pull_request' : 'public_repository', pools: serving.map((p) => p.name) };
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
