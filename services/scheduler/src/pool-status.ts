import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeFrom, HostRefusalReason, RunnerState, timestampMs, type PoolSnapshot } from '@runnerhub/contracts';
import type { Logger } from '@runnerhub/platform';

/**
 * The pool-manager's view of each pool from its `pool.snapshot` (every 5 s): runners by state, the
 * maximum, the last provisioning error and any backoff. The scheduler reads it to answer "why is my
 * job still queued" and to tell a stuck job from a busy pool. A plain subscription: the next
 * snapshot replaces a lost one.
 */

/** Older than this, a snapshot says nothing (the pool-manager is down or cut off). */
const STALE_MS = 30_000;

export interface PoolStatusView {
  runners: { requested: number; registered: number; starting: number; idle: number; busy: number };
  desired: number;
  maxRunners: number;
  drained: boolean;
  lastError: string;
  backoffUntil: Date | undefined;
  /** Why each host was passed over when the pool's last placement found none. */
  hostRefusals?: Array<{ host: string; reason: HostRefusalReason; needed: string; has: string }>;
  takenAt: Date;
}

export interface PoolStatuses {
  get(pool: string): PoolStatusView | undefined;
  stop(): void;
}

const STATE_KEYS: Partial<Record<RunnerState, keyof PoolStatusView['runners']>> = {
  [RunnerState.REQUESTED]: 'requested',
  [RunnerState.REGISTERED]: 'registered',
  [RunnerState.STARTING]: 'starting',
  [RunnerState.IDLE]: 'idle',
  [RunnerState.BUSY]: 'busy',
};

export function viewOf(snapshot: PoolSnapshot): Map<string, PoolStatusView> {
  const takenAt = new Date(snapshot.takenAt ? timestampMs(snapshot.takenAt) : Date.now());
  return new Map(
    snapshot.pools.map((p) => {
      const runners = { requested: 0, registered: 0, starting: 0, idle: 0, busy: 0 };
      for (const r of p.runners) {
        const key = STATE_KEYS[r.state];
        if (key) runners[key] = r.count;
      }
      const view: PoolStatusView = {
        runners,
        desired: p.desired,
        maxRunners: p.maxRunners,
        drained: p.drained,
        lastError: p.lastError,
        backoffUntil: p.backoffUntil ? new Date(timestampMs(p.backoffUntil)) : undefined,
        hostRefusals: p.hostRefusals.map((r) => ({ host: r.host, reason: r.reason, needed: r.needed, has: r.has })),
        takenAt,
      };
      return [p.pool, view];
    }),
  );
}

export function watchPoolStatuses(nc: NatsConnection, log: Logger): PoolStatuses {
  let latest = new Map<string, PoolStatusView>();
  let receivedAt = 0;
  const sub: Subscription = nc.subscribe('pool.snapshot');
  void (async () => {
    for await (const m of sub) {
      try {
        latest = viewOf(decodeFrom('pool.snapshot', m.subject, m.data));
        receivedAt = Date.now();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'undecodable pool snapshot ignored');
      }
    }
  })();
  return {
    get: (pool) => (Date.now() - receivedAt < STALE_MS ? latest.get(pool) : undefined),
    stop: () => sub.unsubscribe(),
  };
}
