import type pg from 'pg';
import type { PoolCounts } from './sizing.js';

/** pools.runners: the pool-manager's record of every runner, one row per runner, its state moving forward only. */

export type RunnerState = 'requested' | 'registered' | 'starting' | 'idle' | 'busy' | 'finished' | 'removed' | 'failed';

export interface RunnerRow {
  id: string;
  name: string;
  pool: string;
  host: string;
  state: RunnerState;
  installationId: string | null;
  githubRunnerId: string | null;
  containerId: string | null;
  jobId: string | null;
  failure: string | null;
  requestedAt: Date;
}

const COLUMNS = `id, name, pool, host, state, installation_id AS "installationId", github_runner_id AS "githubRunnerId",
  container_id AS "containerId", job_id AS "jobId", failure, requested_at AS "requestedAt"`;

// A state is only ever replaced by a later one: facts arrive out of order and twice.
const ORDER: Record<RunnerState, number> = { requested: 0, registered: 1, starting: 2, idle: 3, busy: 4, finished: 5, removed: 6, failed: 6 };
const EARLIER = (state: RunnerState): string[] => Object.entries(ORDER).filter(([, n]) => n < ORDER[state]).map(([s]) => s);

/** A pool's failed runners within the backoff window: how many, when the last failed and why. */
export interface RecentFailures {
  count: number;
  lastAt: Date | null;
  last: string | null;
}

/** The counts of a pool without live runners. */
export const noRunners = (): PoolCounts => ({ requested: 0, registered: 0, starting: 0, idle: 0, busy: 0 });

export function runnersStore(db: pg.Pool) {
  /** When this process last saw a runner of each pool finish: most passes need no finishedSince query. */
  const lastFinishedAt = new Map<string, number>();
  // One pool, or every pool when `pool` is null; both read the runners_live index.
  const countsOf = async (pool: string | null): Promise<Map<string, PoolCounts>> => {
    const { rows } = await db.query<{ pool: string; state: RunnerState; n: number }>(
      "SELECT pool, state, count(*)::int AS n FROM runners WHERE ($1::text IS NULL OR pool = $1) AND state NOT IN ('finished', 'removed', 'failed') GROUP BY pool, state",
      [pool],
    );
    const byPool = new Map<string, PoolCounts>();
    for (const row of rows) {
      let counts = byPool.get(row.pool);
      if (!counts) byPool.set(row.pool, (counts = noRunners()));
      if (row.state in counts) counts[row.state as keyof PoolCounts] = row.n;
    }
    return byPool;
  };
  const move = async (where: string, value: string, state: RunnerState, extra: Record<string, unknown> = {}): Promise<RunnerRow | undefined> => {
    const sets = Object.keys(extra).map((column, i) => `${column} = $${i + 4}`);
    const stamp = { registered: 'registered_at', starting: 'started_at', busy: 'busy_at', finished: 'finished_at' }[state as string];
    const { rows } = await db.query<RunnerRow>(
      `UPDATE runners SET state = $2, updated_at = now()${stamp ? `, ${stamp} = now()` : ''}${sets.length ? `, ${sets.join(', ')}` : ''}
        WHERE ${where} = $1 AND state = ANY($3::text[]) RETURNING ${COLUMNS}`,
      [value, state, EARLIER(state), ...Object.values(extra)],
    );
    return rows[0];
  };
  return {
    async insert(r: { id: string; name: string; pool: string; host: string; forJobId: bigint }): Promise<void> {
      await db.query('INSERT INTO runners (id, name, pool, host, state, for_job_id) VALUES ($1, $2, $3, $4, $5, $6)', [r.id, r.name, r.pool, r.host, 'requested', r.forJobId.toString()]);
    },
    registered: (id: string, installationId: number, githubRunnerId: number) => move('id', id, 'registered', { installation_id: installationId, github_runner_id: githubRunnerId }),
    started: (id: string, containerId: string) => move('id', id, 'starting', { container_id: containerId }),
    busyByName: (name: string, jobId: bigint) => move('name', name, 'busy', { job_id: jobId.toString() }),
    async finished(id: string): Promise<RunnerRow | undefined> {
      const row = await move('id', id, 'finished');
      if (row) lastFinishedAt.set(row.pool, Date.now());
      return row;
    },
    failed: (id: string, failure: string) => move('id', id, 'failed', { failure }),
    /** `why` is kept for removals a person should know about (maximum lifetime, an operator, a vanished container). */
    removed: (id: string, why: string | null = null) => move('id', id, 'removed', why ? { failure: why } : {}),
    async counts(pool: string): Promise<PoolCounts> {
      return (await countsOf(pool)).get(pool) ?? noRunners();
    },
    /** Live runners of every pool at once (a pool with none is absent): one query per pass, not one per pool. */
    countsByPool: (): Promise<Map<string, PoolCounts>> => countsOf(null),
    /**
     * Runners that took a job after `since` (went busy then, or were never seen busy) and have already
     * finished: a demand snapshot received at `since` may still count their jobs as pending.
     */
    async finishedSince(pool: string, since: Date): Promise<number> {
      // Runners are finished by this process's fact consumer only, so no finish seen here since
      // `since` means none in the table either (a restarted process has seen none, and its first
      // snapshot arrives after the restart).
      if ((lastFinishedAt.get(pool) ?? 0) <= since.getTime()) return 0;
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM runners WHERE pool = $1 AND state = 'finished' AND finished_at > $2 AND (busy_at IS NULL OR busy_at > $2)",
        [pool, since],
      );
      return rows[0]?.n ?? 0;
    },
    /** Runners still being made or waiting for a job, older than `seconds`. */
    async notBusyOlderThan(pool: string, seconds: number): Promise<RunnerRow[]> {
      const { rows } = await db.query<RunnerRow>(
        `SELECT ${COLUMNS} FROM runners WHERE pool = $1 AND state IN ('requested', 'registered', 'starting', 'idle') AND requested_at < now() - make_interval(secs => $2) ORDER BY requested_at`,
        [pool, seconds],
      );
      return rows;
    },
    /** Live runners of any state requested more than `seconds` ago. */
    async liveOlderThan(pool: string, seconds: number): Promise<RunnerRow[]> {
      const { rows } = await db.query<RunnerRow>(
        `SELECT ${COLUMNS} FROM runners WHERE pool = $1 AND state IN ('requested', 'registered', 'starting', 'idle', 'busy') AND requested_at < now() - make_interval(secs => $2) ORDER BY requested_at`,
        [pool, seconds],
      );
      return rows;
    },
    /** Runners on `host` whose container should be running, started before `before`. */
    async withContainerOn(host: string, before: Date): Promise<RunnerRow[]> {
      const { rows } = await db.query<RunnerRow>(`SELECT ${COLUMNS} FROM runners WHERE host = $1 AND state IN ('starting', 'idle', 'busy') AND started_at < $2`, [host, before]);
      return rows;
    },
    /** Live runners per host and pool: what placement adds to a heartbeat that has not seen them yet. */
    async liveByHost(): Promise<{ host: string; pool: string; runners: number }[]> {
      const { rows } = await db.query<{ host: string; pool: string; runners: number }>(
        "SELECT host, pool, count(*)::int AS runners FROM runners WHERE state IN ('requested', 'registered', 'starting', 'idle', 'busy') GROUP BY host, pool",
      );
      return rows;
    },
    async list(filter: { pool?: string; live?: boolean; limit: number }): Promise<RunnerRow[]> {
      const { rows } = await db.query<RunnerRow>(
        `SELECT ${COLUMNS} FROM runners WHERE ($1::text IS NULL OR pool = $1) AND (NOT $2 OR state NOT IN ('finished', 'removed', 'failed')) ORDER BY requested_at DESC LIMIT $3`,
        [filter.pool ?? null, filter.live ?? false, filter.limit],
      );
      return rows;
    },
    async byName(name: string): Promise<RunnerRow | undefined> {
      const { rows } = await db.query<RunnerRow>(`SELECT ${COLUMNS} FROM runners WHERE name = $1`, [name]);
      return rows[0];
    },
    async byId(id: string): Promise<RunnerRow | undefined> {
      const { rows } = await db.query<RunnerRow>(`SELECT ${COLUMNS} FROM runners WHERE id = $1`, [id]);
      return rows[0];
    },
    /** Failures of the pool's runners within the window: how many, the latest one and when. */
    /** Failures within the window for every pool that had one (index runners_recent_failures). */
    async recentFailuresByPool(withinSeconds: number): Promise<Map<string, RecentFailures>> {
      const { rows } = await db.query<RecentFailures & { pool: string }>(
        `SELECT pool, count(*)::int AS count, max(updated_at) AS "lastAt",
                (array_agg(failure ORDER BY updated_at DESC))[1] AS last
           FROM runners WHERE state = 'failed' AND updated_at > now() - make_interval(secs => $1)
          GROUP BY pool`,
        [withinSeconds],
      );
      return new Map(rows.map(({ pool, ...failures }) => [pool, failures]));
    },
  };
}

export type RunnersStore = ReturnType<typeof runnersStore>;
