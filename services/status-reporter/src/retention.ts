import type { RetentionRule } from '@runnerhub/platform';

/**
 * What the status-reporter forgets. Its job and runner rows are working state (which check run a
 * job has, which runner it is on): a week after their last fact nothing refers to them. A report is
 * history a person may look up, kept RETENTION_DAYS once GitHub has it (or gave up on it).
 */
export function statusReporterRetention(days: number): RetentionRule[] {
  return [
    // GitHub cancels a workflow run after 35 days, so a job unheard of that long is over, completed or not.
    { table: 'jobs', where: `updated_at < now() - interval '7 days' AND (status = 'completed' OR updated_at < now() - interval '35 days')` },
    { table: 'runners', where: `updated_at < now() - interval '7 days'` },
    { table: 'reports', where: `state IN ('sent', 'failed') AND updated_at < now() - make_interval(days => $1)`, params: [days] },
  ];
}
