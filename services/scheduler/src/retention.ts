import type { RetentionRule } from '@runnerhub/platform';

/**
 * A job's row (and its transitions, by cascade) is kept RETENTION_DAYS from when it was first
 * seen, once it completed. first_seen_at never changes, so its index costs no update of a job.
 * A job that never completed goes too once GitHub's own limit ends its workflow run (35 days).
 * A queued event redelivered after its row is gone would be taken as a new job; GitHub redelivers
 * events up to 3 days old and RETENTION_DAYS is at least 7, so that cannot happen.
 */
export function schedulerRetention(days: number): RetentionRule[] {
  return [
    {
      table: 'jobs',
      where: `first_seen_at < now() - make_interval(days => $1) AND (status = 'completed' OR first_seen_at < now() - interval '35 days')`,
      params: [days],
    },
  ];
}
