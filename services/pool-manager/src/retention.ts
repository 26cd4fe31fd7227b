import type { RetentionRule } from '@runnerhub/platform';

/**
 * A runner's row is kept RETENTION_DAYS from its request once it is over (finished, removed or
 * failed); live rows are never touched. Something in GitHub or Docker whose row is gone is still
 * found: the orphan reapers remove whatever no live row owns.
 */
export function poolManagerRetention(days: number): RetentionRule[] {
  return [{ table: 'runners', where: `state IN ('finished', 'removed', 'failed') AND requested_at < now() - make_interval(days => $1)`, params: [days] }];
}
