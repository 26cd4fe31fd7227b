import { capsOf, PRIORITY_ORDER, type Caps, type PriorityWord } from './rules.js';

/**
 * The demand level per pool from the jobs that are waiting or running, with repository and
 * organization caps applied. Pure, so the cap rules can be checked as properties.
 *
 * A cap bounds how many of a repository's (or organization's) jobs ask for a runner at once: running
 * jobs count first, then pending ones in priority order (oldest first within a class). Jobs beyond
 * the cap are counted as `overCap` and create no runner until a slot frees up. `critical` jobs are
 * never held back, but they do use slots. GitHub hands any idle runner of a pool to any of its
 * jobs, so a cap bounds the supply a repository causes, not which job a runner takes.
 */

export interface LevelJob {
  jobId: string;
  pool: string;
  repository: string;
  organization: string;
  priority: PriorityWord;
  running: boolean;
  createdAt: number;
}

export interface PoolLevel {
  pending: Record<PriorityWord, number>;
  overCap: number;
  running: number;
  /** Oldest pending job within its caps. */
  oldestPendingAt: number | undefined;
}

export type CapHit = { scope: 'repository' | 'organization'; name: string; cap: number };

export interface Levels {
  pools: Map<string, PoolLevel>;
  /** Pending jobs held back by a cap, and which one. */
  overCap: Map<string, CapHit>;
}

const emptyLevel = (): PoolLevel => ({ pending: { critical: 0, high: 0, normal: 0, low: 0 }, overCap: 0, running: 0, oldestPendingAt: undefined });

export function demandLevels(jobs: readonly LevelJob[], caps: Caps): Levels {
  const pools = new Map<string, PoolLevel>();
  const overCap = new Map<string, CapHit>();
  const used = { repository: new Map<string, number>(), organization: new Map<string, number>() };
  const key = (s: string) => s.toLowerCase();
  const take = (j: LevelJob) => {
    used.repository.set(key(j.repository), (used.repository.get(key(j.repository)) ?? 0) + 1);
    used.organization.set(key(j.organization), (used.organization.get(key(j.organization)) ?? 0) + 1);
  };
  const level = (pool: string) => {
    let l = pools.get(pool);
    if (!l) pools.set(pool, (l = emptyLevel()));
    return l;
  };
  for (const j of jobs) {
    if (!j.running) continue;
    level(j.pool).running += 1;
    take(j);
  }
  const rank = (p: PriorityWord) => PRIORITY_ORDER.indexOf(p);
  const pending = jobs.filter((j) => !j.running).sort((a, b) => rank(a.priority) - rank(b.priority) || a.createdAt - b.createdAt || a.jobId.localeCompare(b.jobId));
  for (const j of pending) {
    const l = level(j.pool);
    const cap = capsOf(caps, j.repository, j.organization);
    const hit: CapHit | undefined =
      j.priority === 'critical'
        ? undefined
        : cap.repository > 0 && (used.repository.get(key(j.repository)) ?? 0) >= cap.repository
          ? { scope: 'repository', name: j.repository, cap: cap.repository }
          : cap.organization > 0 && (used.organization.get(key(j.organization)) ?? 0) >= cap.organization
            ? { scope: 'organization', name: j.organization, cap: cap.organization }
            : undefined;
    if (hit) {
      l.overCap += 1;
      overCap.set(j.jobId, hit);
      continue;
    }
    l.pending[j.priority] += 1;
    l.oldestPendingAt = Math.min(l.oldestPendingAt ?? Infinity, j.createdAt);
    take(j);
  }
  return { pools, overCap };
}
