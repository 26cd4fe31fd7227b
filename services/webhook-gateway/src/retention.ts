import type { RetentionRule } from '@runnerhub/platform';

/**
 * Deliveries and redelivery requests are kept RETENTION_DAYS from when they were received or last
 * asked for. The redelivery reconciler only looks at GitHub's last 3 days, and RETENTION_DAYS is at
 * least 7, so it never asks again for a delivery whose row was deleted.
 */
export function gatewayRetention(days: number): RetentionRule[] {
  return [
    { table: 'deliveries', where: `received_at < now() - make_interval(days => $1)`, params: [days] },
    { table: 'redeliveries', where: `requested_at < now() - make_interval(days => $1)`, params: [days] },
  ];
}
