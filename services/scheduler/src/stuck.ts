import { timestampFromDate } from '@runnerhub/contracts';
import { startLoop, withTransaction, type Logger, type Loop } from '@runnerhub/platform';
import { currentLevels, diagnose, type DiagnoseDeps } from './diagnose.js';
import { COLUMNS, loadJobRef, type JobRow } from './jobs.js';
import { enqueueFact, type OutboxRelay } from './outbox.js';
import { EXPECTED_WAITS, QUEUE_REASONS } from './why.js';

/**
 * Stuck jobs: matched, still waiting longer than their pool's expected start time, for a reason
 * that is not capacity working as intended (pool at its maximum, a cap, a drained pool). Each gets
 * one `job.stuck` fact with the `why` answer, written through the outbox with a `stuck` transition,
 * so replicas and restarts report it once.
 */

/** A pool that does not say how long a start should take. */
const DEFAULT_EXPECTED_START_S = 300;

export async function detectStuckJobs(deps: DiagnoseDeps & { relay: OutboxRelay; log: Logger }, now = new Date()): Promise<number> {
  const { rows } = await deps.db.query<JobRow>(
    `SELECT ${COLUMNS} FROM jobs j
      WHERE match = 'matched' AND status NOT IN ('in_progress', 'completed')
        AND NOT EXISTS (SELECT 1 FROM job_transitions t WHERE t.job_id = j.job_id AND t.transition = 'stuck')
      ORDER BY created_at LIMIT 500`,
  );
  const overdue = rows.filter((j) => {
    const expected = (j.pool && deps.pools.get(j.pool)?.expectedStartSeconds) || DEFAULT_EXPECTED_START_S;
    return j.createdAt !== null && now.getTime() - j.createdAt.getTime() > expected * 1000;
  });
  if (overdue.length === 0) return 0;
  const levels = await currentLevels(deps);
  let reported = 0;
  for (const job of overdue) {
    const why = await diagnose(deps, job, levels);
    const waitingForUs = why.reason in QUEUE_REASONS || why.reason === 'waiting_for_runner';
    if (!waitingForUs || EXPECTED_WAITS.has(why.reason)) continue;
    const expected = (job.pool && deps.pools.get(job.pool)?.expectedStartSeconds) || DEFAULT_EXPECTED_START_S;
    const wrote = await withTransaction(deps.db, async (client) => {
      const { rowCount } = await client.query("INSERT INTO job_transitions (job_id, transition) VALUES ($1, 'stuck') ON CONFLICT DO NOTHING", [job.jobId]);
      if (rowCount === 0) return false;
      await enqueueFact(
        client,
        'job.stuck',
        {
          $typeName: 'runnerhub.v1.JobStuck',
          job: await loadJobRef(client, job.jobId),
          pool: job.pool ?? '',
          queuedAt: job.createdAt ? timestampFromDate(job.createdAt) : undefined,
          expectedStartSeconds: expected,
          why: {
            $typeName: 'runnerhub.v1.QueueDiagnosis',
            reason: QUEUE_REASONS[why.reason] ?? 0,
            detail: why.detail,
            closestPools: [],
            lastError: why.lastError ?? '',
            ...(why.since ? { since: timestampFromDate(new Date(why.since)) } : {}),
          },
          detectedAt: timestampFromDate(now),
        },
        `job:${job.jobId}:stuck`,
        undefined,
      );
      return true;
    });
    if (wrote) {
      reported += 1;
      deps.log.warn({ jobId: job.jobId, pool: job.pool, reason: why.reason }, `job stuck: ${why.detail}`);
    }
  }
  if (reported > 0) deps.relay.wake();
  return reported;
}

/** The stuck-job check as a named loop, every `intervalMs` (not at start: a job is stuck only after a while). */
export function startStuckJobCheck(deps: DiagnoseDeps & { relay: OutboxRelay; log: Logger }, intervalMs: number): Loop {
  return startLoop({ name: 'scheduler.stuck-jobs', intervalMs, runAtStart: false, log: deps.log, failureMessage: 'stuck-job check failed; the next period retries', run: () => detectStuckJobs(deps) });
}
