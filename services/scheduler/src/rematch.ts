import { timestampFromDate } from '@runnerhub/contracts';
import { withTransaction, type Logger } from '@runnerhub/platform';
import type pg from 'pg';
import type { DemandPublisher } from './demand.js';
import { loadJobRef, PRIORITY_CLASS, refusedFact, unmatchedFact } from './jobs.js';
import { admits, canServe, choosePool, type JobOrigin } from './matching.js';

import { enqueueFact, type OutboxRelay } from './outbox.js';
import type { PoolDirectory } from './pools.js';
import type { PriorityWord } from './rules.js';

/**
 * When the pools change, waiting jobs are matched again: a job no pool could serve may now have one
 * (someone added the pool `why` asked for), and a job whose pool was deleted, or whose pool's runners
 * no longer carry every label it asks for (the hosts serving the pool turned out ARM64, say), needs
 * another or is unmatched. A refused job (a public repository's) runs once a pool allows it, and a
 * waiting one is refused when its pool stops allowing it. Jobs whose pool still serves them keep it: moving them would only churn
 * runners.
 */

export async function rematchWaitingJobs(deps: { db: pg.Pool; pools: PoolDirectory; relay: OutboxRelay; demand: DemandPublisher; log: Logger }): Promise<number> {
  const live = deps.pools.current();
  const byName = new Map(live.map((p) => [p.name, p]));
  const { rows } = await deps.db.query<{ jobId: string; labels: string[]; match: string; pool: string | null; priority: PriorityWord; createdAt: Date | null } & JobOrigin>(
    `SELECT job_id::text AS "jobId", labels, match, pool, priority, created_at AS "createdAt",
            public_repository AS "publicRepository", fork_pull_request AS "forkPullRequest" FROM jobs
      WHERE status NOT IN ('in_progress', 'completed') AND match IN ('unmatched', 'matched', 'refused')`,
  );
  let changed = 0;
  for (const job of rows) {
    const current = job.match === 'matched' && job.pool ? byName.get(job.pool) : undefined;
    if (current && canServe(job.labels, current.labels) && admits(current, job)) continue;
    const match = choosePool(job.labels, live, job);
    if (match.kind === 'not_ours' || (match.kind !== 'matched' && match.kind === job.match)) continue;
    const moved = await withTransaction(deps.db, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [job.jobId]);
      // Only if the job still waits and nobody rematched it meanwhile.
      const { rowCount } = await client.query(
        `UPDATE jobs SET match = $2, pool = $3, match_detail = $4, updated_at = now()
          WHERE job_id = $1 AND status NOT IN ('in_progress', 'completed') AND match = $5 AND pool IS NOT DISTINCT FROM $6`,
        [job.jobId, match.kind, match.kind === 'matched' ? match.pool : null, match.kind === 'matched' ? null : JSON.stringify(match), job.match, job.pool],
      );
      if (rowCount === 0) return false;
      const ref = await loadJobRef(client, job.jobId);
      const queuedAt = job.createdAt ? timestampFromDate(job.createdAt) : undefined;
      if (match.kind === 'refused') {
        await enqueueFact(client, 'job.unmatched', refusedFact(ref, match, queuedAt), `job:${job.jobId}:refused:after:${job.pool ?? job.match}`, undefined);
      } else if (match.kind === 'matched') {
        await enqueueFact(client, 'job.queued', { $typeName: 'runnerhub.v1.JobQueued', job: ref, pool: match.pool, priority: PRIORITY_CLASS[job.priority], queuedAt, matchedAt: timestampFromDate(new Date()) }, `job:${job.jobId}:queued:${match.pool}`, undefined);
      } else {
        const why = current ? `no longer serves ${job.labels.join(', ')} (its runners carry ${current.labels.join(', ')})` : 'is gone';
        const detail = job.pool ? `pool ${job.pool} ${why} and no other pool has every label of runs-on: ${job.labels.join(', ')}` : `no pool has every label of runs-on: ${job.labels.join(', ')}`;
        await enqueueFact(client, 'job.unmatched', unmatchedFact(ref, match.closest, detail, queuedAt), `job:${job.jobId}:unmatched:after:${job.pool ?? ''}`, undefined);
      }
      await client.query("INSERT INTO job_transitions (job_id, transition) VALUES ($1, 'rematched') ON CONFLICT (job_id, transition) DO UPDATE SET at = now()", [job.jobId]);
      return true;
    });
    if (moved) {
      changed += 1;
      deps.log.info({ jobId: job.jobId, from: job.pool ?? job.match, to: match.kind === 'matched' ? match.pool : match.kind }, 'waiting job matched again after a pool change');
    }
  }
  if (changed > 0) {
    deps.relay.wake();
    deps.demand.nudge();
  }
  return changed;
}
