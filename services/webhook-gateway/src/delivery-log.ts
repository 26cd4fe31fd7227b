import type { Logger } from '@runnerhub/platform';
import type { DeliveriesStore, DeliveryRecord } from './deliveries.js';

/**
 * Writes delivery records behind the response, in batches: one multi-row upsert every FLUSH_MS
 * instead of one round trip per request. The log is bookkeeping (the event itself is already in
 * JetStream when we answer), so a crash costs at most the last FLUSH_MS of rows, never an event.
 */

/** Long enough to batch a burst, short enough that the admin API is current to a person. */
const FLUSH_MS = 100;
const MAX_BATCH = 500;
/** While Postgres is away, keep this many rows for later; beyond it, drop the oldest and say so. */
const MAX_PENDING = 50_000;

export interface DeliveryLog {
  record(r: DeliveryRecord): void;
  /** Writes everything pending now (used by tests and at shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createDeliveryLog(store: DeliveriesStore, log: Logger): DeliveryLog {
  let pending: DeliveryRecord[] = [];
  let writing: Promise<void> = Promise.resolve();
  let failing = false;

  const writeOnce = async () => {
    while (pending.length > 0) {
      const batch = pending.splice(0, MAX_BATCH);
      try {
        await store.recordBatch(batch);
        if (failing) log.info('delivery log writes again');
        failing = false;
      } catch (err) {
        pending.unshift(...batch);
        if (pending.length > MAX_PENDING) {
          const dropped = pending.length - MAX_PENDING;
          pending = pending.slice(dropped);
          log.error({ dropped }, 'delivery log backlog full; oldest rows dropped (their events are in JetStream)');
        }
        if (!failing) log.warn({ err: (err as Error).message, pending: pending.length }, 'cannot write the delivery log; will retry');
        failing = true;
        return;
      }
    }
  };
  const flush = () => {
    writing = writing.then(writeOnce);
    return writing;
  };
  const timer = setInterval(() => void flush(), FLUSH_MS);
  timer.unref();

  return {
    record(r) {
      pending.push(r);
      if (pending.length >= MAX_BATCH) void flush();
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
