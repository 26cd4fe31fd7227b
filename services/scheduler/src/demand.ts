import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { timestampFromDate, type DemandSnapshot, type SubjectMessages } from '@runnerhub/contracts';
import { startLoop, type Logger, type Publisher } from '@runnerhub/platform';
import type pg from 'pg';
import { activeMatchedJobs } from './jobs.js';
import { demandLevels } from './levels.js';
import type { PoolDirectory } from './pools.js';
import type { Caps } from './rules.js';

/**
 * The demand level per pool, published on `pool.demand` whenever it may have changed (coalesced)
 * and on a timer, so the pool-manager sizes pools from a level rather than from counting events:
 * a lost snapshot costs one interval, never a runner.
 */

/** The pool-manager sees a lost or missed snapshot corrected within this long. */
const DEMAND_INTERVAL_MS = 5_000;
/**
 * Snapshots start at least this far apart: the first change after a quiet spell is published at
 * once, the changes of a burst together at the end of the window.
 */
const COALESCE_MS = 50;

export async function readDemand(db: pg.Pool, poolNames: readonly string[], caps: Caps, now = new Date()): Promise<DemandSnapshot> {
  const { pools } = demandLevels(await activeMatchedJobs(db), caps);
  const names = [...new Set([...poolNames, ...pools.keys()])].sort();
  return {
    $typeName: 'runnerhub.v1.DemandSnapshot',
    takenAt: timestampFromDate(now),
    pools: names.map((pool) => {
      const l = pools.get(pool);
      return {
        $typeName: 'runnerhub.v1.PoolDemand',
        pool,
        pending: { $typeName: 'runnerhub.v1.PendingByClass', critical: 0, high: 0, normal: 0, low: 0, ...l?.pending },
        overCap: l?.overCap ?? 0,
        running: l?.running ?? 0,
        ...(l?.oldestPendingAt !== undefined ? { oldestPendingAt: timestampFromDate(new Date(l.oldestPendingAt)) } : {}),
      };
    }),
  };
}

export interface DemandPublisher {
  /** Something changed: publish now, or at the end of the current window if one just went out. */
  nudge(): void;
  stop(): Promise<void>;
}

export function startDemandPublisher(deps: { db: pg.Pool; publisher: Publisher<SubjectMessages>; pools: PoolDirectory; caps: Caps; log: Logger }): DemandPublisher {
  let pending: NodeJS.Timeout | undefined;
  let lastStartedAt = 0;
  // Unique per snapshot: two in the same millisecond (the timer and a nudge) are not duplicates.
  const instance = randomBytes(4).toString('hex');
  let sequence = 0;
  const loop = startLoop({
    name: 'scheduler.demand',
    intervalMs: DEMAND_INTERVAL_MS,
    log: deps.log,
    failureMessage: 'cannot publish the demand snapshot; the next interval tries again',
    run: async () => {
      lastStartedAt = Date.now();
      const snapshot = await readDemand(deps.db, deps.pools.current().map((p) => p.name), deps.caps);
      // A level, not part of any job: the nudge runs inside whichever job's consumer span caused it.
      await deps.publisher.publish('pool.demand', snapshot, { msgId: `demand:${instance}:${++sequence}`, traceContext: ROOT_CONTEXT });
    },
  });
  return {
    nudge() {
      if (pending) return;
      const wait = lastStartedAt + COALESCE_MS - Date.now();
      if (wait <= 0) {
        loop.wake();
        return;
      }
      pending = setTimeout(() => {
        pending = undefined;
        loop.wake();
      }, wait);
    },
    async stop() {
      clearTimeout(pending);
      await loop.stop();
    },
  };
}
