import type { Meter } from '@opentelemetry/api';
import type pg from 'pg';
import type { Logger } from './logging.js';

/**
 * Row retention: a service forgets the history nobody will ask about again, so its tables and
 * their indexes stop growing with every job (a NAS runs for years on a small disk).
 *
 * Rows go in batches of a few thousand, each its own short statement: one DELETE of a month of
 * history would hold its locks and write its WAL in one go, beside the job path. Replicas may run
 * it at the same moment: a row two of them pick is deleted once, the other skips it.
 */

export interface RetentionRule {
  /** A table of the service's own schema. */
  table: string;
  /** SQL condition of the rows to delete, with `$1`… bound to `params`; should be served by an index. */
  where: string;
  params?: readonly unknown[];
}

export interface RetentionSettings {
  db: pg.Pool;
  rules: readonly RetentionRule[];
  meter: Meter;
  log: Logger;
  /** Between runs; hourly by default. */
  intervalMs?: number;
  /** The first run waits this long, so it does not add to a start. */
  firstRunMs?: number;
  batchSize?: number;
}

export interface Retention {
  /** Runs every rule to the end now (or joins the run in progress); rows deleted by table (a table whose rule failed is absent). */
  runNow(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

const HOUR_MS = 3_600_000;
const DEFAULT_BATCH = 5_000;

export function startRetention(s: RetentionSettings): Retention {
  const batchSize = s.batchSize ?? DEFAULT_BATCH;
  const deleted = s.meter.createCounter('runnerhub_retention_deleted_rows', { description: 'Rows deleted because they were older than the retention period, by table.' });
  const failures = s.meter.createCounter('runnerhub_retention_failures', { description: 'Retention runs that failed (the next run retries), by table.' });
  let stopping = false;
  let running: Promise<Record<string, number>> | undefined;

  const purge = async (rule: RetentionRule): Promise<number> => {
    // ctid: the physical row address, so each batch is an index scan plus a delete of exactly
    // those rows, whatever the table's key.
    const sql = `DELETE FROM ${rule.table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${rule.table} WHERE ${rule.where} LIMIT ${batchSize}))`;
    let total = 0;
    while (!stopping) {
      const { rowCount } = await s.db.query(sql, [...(rule.params ?? [])]);
      const n = rowCount ?? 0;
      total += n;
      if (n > 0) deleted.add(n, { table: rule.table });
      if (n < batchSize) break;
    }
    return total;
  };

  const runAll = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const rule of s.rules) {
      try {
        counts[rule.table] = (counts[rule.table] ?? 0) + (await purge(rule));
      } catch (err) {
        failures.add(1, { table: rule.table });
        s.log.warn({ loop: 'retention', table: rule.table, err: (err as Error).message }, 'retention run failed; the next run retries');
      }
    }
    if (Object.values(counts).some((n) => n > 0)) s.log.info({ loop: 'retention', deleted: counts }, 'old rows deleted');
    return counts;
  };

  const runNow = () => {
    running ??= runAll().finally(() => (running = undefined));
    return running;
  };
  const tick = () => void runNow();
  const first = setTimeout(tick, s.firstRunMs ?? 60_000);
  const timer = setInterval(tick, s.intervalMs ?? HOUR_MS);
  first.unref();
  timer.unref();

  return {
    runNow,
    async stop() {
      stopping = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
