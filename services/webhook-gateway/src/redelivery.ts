import { listDeliveries, RateLimitedError, redeliver, type GitHubClient, type HookDelivery } from '@runnerhub/github';
import type { Logger } from '@runnerhub/platform';
import type pg from 'pg';
import type { RecentDeliveries } from './recent-deliveries.js';

/**
 * The redelivery reconciler: what lets RunnerHub promise that a job GitHub could not tell us about
 * still runs. GitHub does not retry failed deliveries (github-contract.md §1, §8), so every few
 * minutes, one replica at a time, it pages through the App's deliveries since the last scan,
 * groups them by GUID, and asks GitHub to deliver again every GUID that never succeeded and that we
 * do not have — within GitHub's 3-day window, a bounded number per cycle, under the shared rate
 * budget. A GUID asked for recently is left alone for a cool-down.
 */

/** GitHub keeps deliveries redeliverable for 3 days; stay clear of the edge. */
const REDELIVERABLE_MS = 3 * 86_400_000 - 3_600_000;
/** Deliveries can take minutes and our delivery log is written behind: rescan a margin. */
const OVERLAP_MS = 15 * 60_000;
/** A redelivery is queued at GitHub; give it time to arrive before asking again. */
const COOL_DOWN_MS = 10 * 60_000;
/** GitHub redelivers each request once; stop asking for a GUID after this many tries. */
const MAX_REQUESTS = 5;
const MAX_PAGES = 100;

export interface ReconcileSummary {
  scanned: number;
  guids: number;
  missing: number;
  requested: number;
  recovered: number;
  /** Why the cycle stopped early, if it did. */
  stoppedBy: string | null;
}

export interface RedeliveryDeps {
  gh: GitHubClient;
  db: pg.Pool;
  recent: RecentDeliveries;
  maxPerCycle: number;
  log: Logger;
  metrics: { requested(event: string): void; recovered(count: number): void };
}

interface Group {
  latest: HookDelivery;
  succeeded: boolean;
}

export async function reconcileOnce(deps: RedeliveryDeps, signal?: AbortSignal): Promise<ReconcileSummary> {
  const started = Date.now();
  const summary: ReconcileSummary = { scanned: 0, guids: 0, missing: 0, requested: 0, recovered: 0, stoppedBy: null };
  summary.recovered = await markRecovered(deps.db);
  if (summary.recovered > 0) deps.metrics.recovered(summary.recovered);

  const checkpoint = await readCheckpoint(deps.db);
  const scanFrom = Math.max(started - REDELIVERABLE_MS, (checkpoint ?? 0) - OVERLAP_MS);
  const groups = new Map<string, Group>();
  let pages = 0;
  let complete = true;
  try {
    for await (const delivery of listDeliveries(deps.gh, { perPage: 100 })) {
      if (signal?.aborted) {
        complete = false;
        summary.stoppedBy = 'stopped';
        break;
      }
      if (Date.parse(delivery.delivered_at) < scanFrom) break;
      summary.scanned += 1;
      if (summary.scanned % 100 === 0 && ++pages >= MAX_PAGES) {
        complete = false;
        summary.stoppedBy = `page limit (${MAX_PAGES} pages)`;
        break;
      }
      const group = groups.get(delivery.guid);
      const ok = delivery.status === 'OK' || (delivery.status_code >= 200 && delivery.status_code < 300);
      if (!group) groups.set(delivery.guid, { latest: delivery, succeeded: ok });
      else group.succeeded ||= ok;
    }
  } catch (error) {
    if (!(error instanceof RateLimitedError)) throw error;
    complete = false;
    summary.stoppedBy = `GitHub rate limit (retry in ${Math.ceil(error.retryAfterMs / 1000)} s)`;
  }
  summary.guids = groups.size;

  const failed = [...groups.entries()].filter(([guid, g]) => !g.succeeded && !deps.recent.has(guid));
  const known = await handledGuids(deps.db, failed.map(([guid]) => guid));
  const asked = await recentlyAsked(deps.db, failed.map(([guid]) => guid));
  // Oldest first: the longest-waiting jobs get their events first when the cycle is bounded.
  const missing = failed.filter(([guid]) => !known.has(guid)).sort(([, a], [, b]) => Date.parse(a.latest.delivered_at) - Date.parse(b.latest.delivered_at));
  summary.missing = missing.length;
  for (const [guid, group] of missing) {
    if (asked.has(guid)) continue;
    if (summary.requested >= deps.maxPerCycle) {
      summary.stoppedBy ??= `at most ${deps.maxPerCycle} redeliveries per cycle`;
      complete = false;
      break;
    }
    try {
      await redeliver(deps.gh, group.latest.id);
    } catch (error) {
      if (error instanceof RateLimitedError) {
        summary.stoppedBy = `GitHub rate limit (retry in ${Math.ceil(error.retryAfterMs / 1000)} s)`;
        complete = false;
        break;
      }
      deps.log.warn({ guid, err: error instanceof Error ? error.message : String(error) }, 'redelivery request refused');
      continue;
    }
    await recordRequest(deps.db, guid, group.latest);
    deps.metrics.requested(group.latest.event);
    summary.requested += 1;
  }
  // Only a full pass moves the checkpoint; a cut-short one is resumed from the same place.
  if (complete) await writeCheckpoint(deps.db, new Date(started));
  if (summary.requested > 0 || summary.stoppedBy) deps.log.info(summary, 'redelivery reconciler cycle');
  return summary;
}

async function readCheckpoint(db: pg.Pool): Promise<number | undefined> {
  const { rows } = await db.query<{ scanned_to: Date }>('SELECT scanned_to FROM reconciler_checkpoint WHERE id = 1');
  return rows[0]?.scanned_to.getTime();
}

async function writeCheckpoint(db: pg.Pool, at: Date): Promise<void> {
  await db.query('INSERT INTO reconciler_checkpoint (id, scanned_to) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET scanned_to = EXCLUDED.scanned_to', [at]);
}

/** GUIDs we published, deliberately ignored or refused for good (4xx); a 'failed' row (we answered 503) is not "had". */
async function handledGuids(db: pg.Pool, guids: string[]): Promise<Set<string>> {
  if (guids.length === 0) return new Set();
  const { rows } = await db.query<{ guid: string }>("SELECT guid FROM deliveries WHERE guid = ANY($1::text[]) AND outcome <> 'failed'", [guids]);
  return new Set(rows.map((r) => r.guid));
}

async function recentlyAsked(db: pg.Pool, guids: string[]): Promise<Set<string>> {
  if (guids.length === 0) return new Set();
  const { rows } = await db.query<{ guid: string }>(
    `SELECT guid FROM redeliveries WHERE guid = ANY($1::text[]) AND (requested_at > now() - make_interval(secs => $2) OR requests >= $3)`,
    [guids, COOL_DOWN_MS / 1000, MAX_REQUESTS],
  );
  return new Set(rows.map((r) => r.guid));
}

async function recordRequest(db: pg.Pool, guid: string, delivery: HookDelivery): Promise<void> {
  await db.query(
    `INSERT INTO redeliveries (guid, github_delivery_id, event, action) VALUES ($1, $2, $3, $4)
     ON CONFLICT (guid) DO UPDATE SET github_delivery_id = EXCLUDED.github_delivery_id, requested_at = now(), requests = redeliveries.requests + 1`,
    [guid, String(delivery.id), delivery.event, delivery.action ?? ''],
  );
}

/** Requested redeliveries whose GUID has since arrived and been published. */
async function markRecovered(db: pg.Pool): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE redeliveries r SET recovered_at = now() FROM deliveries d
      WHERE r.recovered_at IS NULL AND d.guid = r.guid AND d.outcome <> 'failed'`,
  );
  return rowCount ?? 0;
}

/** The latest GitHub delivery id of a GUID within the redeliverable window, for a manual redelivery. */
export async function findDelivery(gh: GitHubClient, guid: string): Promise<HookDelivery | undefined> {
  const oldest = Date.now() - REDELIVERABLE_MS;
  for await (const delivery of listDeliveries(gh, { perPage: 100 })) {
    if (delivery.guid === guid) return delivery;
    if (Date.parse(delivery.delivered_at) < oldest) return undefined;
  }
  return undefined;
}
