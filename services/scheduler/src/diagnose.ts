import type { GitHubClient } from '@runnerhub/github';
import type pg from 'pg';
import { activeMatchedJobs, type JobRow } from './jobs.js';
import { demandLevels, type Levels } from './levels.js';
import type { PoolStatuses } from './pool-status.js';
import type { PoolDirectory } from './pools.js';
import type { SchedulingRules } from './rules.js';
import { explain, type WhyAnswer } from './why.js';

/** Gathers what `explain` needs for one job: its pool, the pool-manager's view, caps and GitHub's budget. */

export interface DiagnoseDeps {
  db: pg.Pool;
  pools: PoolDirectory;
  statuses: PoolStatuses;
  rules: SchedulingRules;
  /** Absent without a GitHub App: the budget is then not part of the answer. */
  gh: GitHubClient | undefined;
}

export async function currentLevels(deps: Pick<DiagnoseDeps, 'db' | 'rules'>): Promise<Levels> {
  return demandLevels(await activeMatchedJobs(deps.db), deps.rules.caps);
}

export async function diagnose(deps: DiagnoseDeps, job: JobRow, levels?: Levels): Promise<WhyAnswer> {
  const pending = job.status !== 'in_progress' && job.status !== 'completed' && job.match === 'matched';
  if (!pending) return explain(job, deps.pools.current());
  const definition = job.pool ? deps.pools.get(job.pool) : undefined;
  const capHit = (levels ?? (await currentLevels(deps))).overCap.get(job.jobId);
  const budget = deps.gh && job.installationId ? await deps.gh.budget.canSpend(Number(job.installationId)).catch(() => undefined) : undefined;
  return explain(job, deps.pools.current(), {
    ...(definition ? { pool: { drained: definition.drained, maxRunners: definition.maxRunners } } : {}),
    ...(job.pool && deps.statuses.get(job.pool) ? { status: deps.statuses.get(job.pool) } : {}),
    ...(capHit ? { capHit } : {}),
    ...(budget ? { budget } : {}),
  });
}
