/**
 * What `make demo` reports, computed from what the simulator and the admin APIs say after the
 * workload. Pure: the driver gathers the inputs, these functions judge them.
 */

export interface DemoJob {
  id: number;
  /** small, large, unmatched or broken: what the demo meant the job for. */
  kind: 'small' | 'large' | 'unmatched' | 'broken';
  status: string;
  conclusion: string | null;
  runnerName: string | null;
  createdAt: string;
  startedAt: string | null;
}

export interface DemoRunner {
  name: string;
  pool: string;
  state: string;
  requestedAt: string;
  failure: string | null;
}

export interface Spread {
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** How the demo's jobs reached RunnerHub: webhooks, or runner scale sets (DEMO_INTAKE). */
export type DemoIntake = 'webhook' | 'scaleset';

export interface DemoSummary {
  ok: boolean;
  intake: DemoIntake;
  problems: string[];
  jobs: { total: number; shouldRun: number; completed: number; succeeded: number };
  /** Warm: the runner existed before the job was queued. Cold: it was made after. */
  queueTime: { warm: Spread; cold: Spread };
  runners: { created: number; removed: number; failed: number; live: number };
  leftBehind: { containers: string[]; volumes: string[]; githubRunners: string[] };
  unmatched: { jobId: number; reason: string; detail: string; checkRun: boolean } | null;
  broken: { pool: string; lastError: string; failedRunners: number; checkRun: boolean } | null;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
}

/** Queue times (queued → a runner took it) split by whether the runner was there first. */
export function queueTimes(jobs: readonly DemoJob[], runners: readonly DemoRunner[]): { warm: Spread; cold: Spread } {
  const requested = new Map(runners.map((r) => [r.name, Date.parse(r.requestedAt)]));
  const warm: number[] = [];
  const cold: number[] = [];
  for (const j of jobs) {
    if (!j.startedAt || !j.runnerName) continue;
    const waited = Date.parse(j.startedAt) - Date.parse(j.createdAt);
    const made = requested.get(j.runnerName);
    (made !== undefined && made < Date.parse(j.createdAt) ? warm : cold).push(waited);
  }
  return { warm: spread(warm), cold: spread(cold) };
}

const LIVE = new Set(['requested', 'registered', 'starting', 'idle', 'busy']);

/**
 * This run's runners out of the pool-manager's whole list (an earlier demo's are in the same
 * database): the live ones, those asked for from a minute before the run began, and every runner
 * that took one of the run's jobs, however long before it was asked for. The warm runner that
 * takes the first job was made when the platform started, which can be more than a minute before
 * the workload (a slow start, a scale-set listener waiting for its session): left out, its job
 * counted as a cold start, and a run with only that warm start showed none.
 */
export function runnersOfRun(all: readonly DemoRunner[], jobs: readonly Pick<DemoJob, 'runnerName'>[], startedMs: number): DemoRunner[] {
  const tookAJob = new Set(jobs.flatMap((j) => (j.runnerName ? [j.runnerName] : [])));
  return all.filter((r) => LIVE.has(r.state) || Date.parse(r.requestedAt) >= startedMs - 60_000 || tookAJob.has(r.name));
}

export interface Evidence {
  intake: DemoIntake;
  jobs: DemoJob[];
  runners: DemoRunner[];
  /** Names of this deployment's runner containers in Docker. */
  containers: string[];
  /** Anonymous volumes of this deployment's runner containers that outlived their container. */
  volumes: string[];
  /** Names of runners registered at "GitHub". */
  githubRunners: string[];
  unmatched: DemoSummary['unmatched'];
  broken: DemoSummary['broken'];
}

export function summarize(e: Evidence): DemoSummary {
  const shouldRun = e.jobs.filter((j) => j.kind === 'small' || j.kind === 'large');
  const completed = shouldRun.filter((j) => j.status === 'completed');
  const succeeded = completed.filter((j) => j.conclusion === 'success');
  const live = new Set(e.runners.filter((r) => LIVE.has(r.state)).map((r) => r.name));
  // Warm runners are meant to stay; anything else in Docker or at GitHub was left behind.
  const leftBehind = { containers: e.containers.filter((n) => !live.has(n)), volumes: e.volumes, githubRunners: e.githubRunners.filter((n) => n.startsWith('rh-') && !live.has(n)) };
  const problems: string[] = [];
  if (succeeded.length < shouldRun.length) problems.push(`${shouldRun.length - succeeded.length} of ${shouldRun.length} jobs that should run did not complete successfully`);
  if (leftBehind.containers.length > 0) problems.push(`containers left behind: ${leftBehind.containers.join(', ')}`);
  if (leftBehind.volumes.length > 0) problems.push(`runner volumes left behind: ${leftBehind.volumes.join(', ')}`);
  if (leftBehind.githubRunners.length > 0) problems.push(`GitHub registrations left behind: ${leftBehind.githubRunners.join(', ')}`);
  if (e.unmatched && e.unmatched.reason !== 'no_pool_matches') problems.push(`the unmatched job's why says ${e.unmatched.reason}, not no_pool_matches`);
  return {
    ok: problems.length === 0,
    intake: e.intake,
    problems,
    jobs: { total: e.jobs.length, shouldRun: shouldRun.length, completed: completed.length, succeeded: succeeded.length },
    queueTime: queueTimes(shouldRun, e.runners),
    runners: {
      created: e.runners.length,
      removed: e.runners.filter((r) => r.state === 'removed' || r.state === 'finished').length,
      failed: e.runners.filter((r) => r.state === 'failed').length,
      live: live.size,
    },
    leftBehind,
    unmatched: e.unmatched,
    broken: e.broken,
  };
}

const ms = (v: number | null) => (v === null ? '—' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);

/** The summary a person reads at the end of `make demo`. */
export function render(s: DemoSummary, urls: Record<string, string>): string {
  const lines = [
    '',
    `RunnerHub demo: ${s.ok ? 'everything worked' : 'something went wrong'}`,
    '',
    `  intake                 ${s.intake === 'scaleset' ? 'runner scale sets (long poll, no webhook sent)' : 'webhooks'}`,
    `  jobs that should run   ${s.jobs.succeeded}/${s.jobs.shouldRun} completed successfully`,
    `  queue time, warm start p50 ${ms(s.queueTime.warm.p50Ms)}  p95 ${ms(s.queueTime.warm.p95Ms)}  (${s.queueTime.warm.count} jobs on a runner that was already waiting)`,
    `  queue time, cold start p50 ${ms(s.queueTime.cold.p50Ms)}  p95 ${ms(s.queueTime.cold.p95Ms)}  (${s.queueTime.cold.count} jobs on a runner made for the demand)`,
    `  runners                created ${s.runners.created}, finished or removed ${s.runners.removed}, failed ${s.runners.failed}, still up ${s.runners.live} (warm minimum)`,
    `  left behind            ${s.leftBehind.containers.length} containers, ${s.leftBehind.volumes.length} volumes, ${s.leftBehind.githubRunners.length} GitHub registrations`,
  ];
  if (s.unmatched) {
    lines.push('', `  job ${s.unmatched.jobId} asks for labels no pool has. Why is it still queued? (${s.unmatched.reason})`, `    ${s.unmatched.detail}`);
    lines.push(`    ${s.unmatched.checkRun ? 'a check run on its commit says the same' : 'no check run was written for it'}`);
  }
  if (s.broken) {
    lines.push('', `  pool ${s.broken.pool} uses an image that cannot start: ${s.broken.failedRunners} runners failed, and the pool backs off instead of spinning.`, `    last error: ${s.broken.lastError || '(none recorded)'}`);
    lines.push(`    ${s.broken.checkRun ? 'the waiting job got a check run with the reason' : 'no check run was written for the waiting job'}`);
  }
  if (s.problems.length > 0) lines.push('', ...s.problems.map((p) => `  PROBLEM: ${p}`));
  lines.push('', '  where to look next:', ...Object.entries(urls).map(([what, url]) => `    ${what.padEnd(22)} ${url}`), '');
  return lines.join('\n');
}
