import { readFileSync } from 'node:fs';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, POOL_DEFINITIONS_BUCKET, poolDefinitionKvSubject, PoolSource, timestampFromMs, type PoolDefinition } from '@runnerhub/contracts';
import type { Logger } from '@runnerhub/platform';
import type pg from 'pg';
import type { HostCapacity } from './placement.js';
import { warmMinimum } from './warm-schedule.js';
import { parsePoolFile, toDefinition, validatePoolSpec, type PoolSpec } from './pool-file.js';
import { poolRunnerLabels } from './pool-platform.js';

/**
 * The pools: declared in POOLS_FILE (read-only through the API) or created through the admin API,
 * kept in the `pools` table and published to the `rh-pools` KV bucket, which the scheduler and every
 * other service watch. The pool-manager owns the bucket: a pool that is gone is deleted from it.
 *
 * A deleted pool leaves the bucket at once (no new job matches it) but stays in the table, drained,
 * until its last runner is gone, so its runners are still retired with the right GitHub scope.
 * One pool-manager writes the catalog; every change goes through one queue.
 */

export class CatalogError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface CatalogEntry {
  name: string;
  source: 'file' | 'api';
  spec: PoolSpec;
  drained: boolean;
  deleted: boolean;
  definition: PoolDefinition;
  /** An operator's warm minimum, held instead of minIdle and the warm schedules until `until` (null: until cleared). */
  warm: WarmOverride | null;
}

export interface WarmOverride {
  min: number;
  until: Date | null;
}

interface Row {
  name: string;
  source: 'file' | 'api';
  spec: PoolSpec;
  drained: boolean;
  deleted_at: Date | null;
  updated_at: Date;
  warm_min: number | null;
  warm_until: Date | null;
}

export async function openPoolCatalog(deps: { db: pg.Pool; nc: NatsConnection; file: string | undefined; log: Logger }) {
  const kv = await new Kvm(deps.nc).create(POOL_DEFINITIONS_BUCKET, { history: 1 });
  let entries = new Map<string, CatalogEntry>();
  let queue: Promise<unknown> = Promise.resolve();
  /** The hosts last seen: each definition's runner labels follow them (pool-platform.ts). */
  let hosts: readonly HostCapacity[] = [];
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  const load = async (): Promise<void> => {
    const { rows } = await deps.db.query<Row>('SELECT name, source, spec, drained, deleted_at, updated_at, warm_min, warm_until FROM pools ORDER BY name');
    const next = new Map<string, CatalogEntry>();
    for (const row of rows) {
      const definition = toDefinition(row.spec, row.source === 'file' ? PoolSource.FILE : PoolSource.API, row.drained || row.deleted_at !== null);
      definition.updatedAt = timestampFromMs(row.updated_at.getTime());
      definition.runnerLabels = poolRunnerLabels(definition, hosts);
      next.set(row.name, { name: row.name, source: row.source, spec: row.spec, drained: row.drained, deleted: row.deleted_at !== null, definition, warm: row.warm_min === null ? null : { min: row.warm_min, until: row.warm_until } });
    }
    entries = next;
  };

  /** The bucket mirrors the table's live pools; a reader that missed a change catches up on its watch. */
  const publish = async (): Promise<void> => {
    const live = [...entries.values()].filter((e) => !e.deleted);
    for (const entry of live) await kv.put(entry.name, contractsCodec.encode(poolDefinitionKvSubject(entry.name), entry.definition).data);
    const names = new Set(live.map((e) => e.name));
    for await (const key of await kv.keys()) {
      if (!names.has(key)) await kv.delete(key);
    }
  };

  const change = async (statement: string, values: unknown[]): Promise<void> => {
    await deps.db.query(statement, values);
    await load();
    await publish();
  };

  const existing = (name: string): CatalogEntry => {
    const entry = entries.get(name);
    if (!entry || entry.deleted) throw new CatalogError(404, `no pool named ${name}`);
    return entry;
  };

  const writable = (name: string): CatalogEntry => {
    const entry = existing(name);
    if (entry.source === 'file') throw new CatalogError(409, `pool ${name} is declared in POOLS_FILE: change it there and reload`);
    return entry;
  };

  const validated = (body: unknown, name?: string): PoolSpec => {
    const raw = typeof body === 'object' && body !== null ? { ...(name ? { name } : {}), ...body } : body;
    if (name && (raw as { name?: unknown }).name !== name) throw new CatalogError(400, `name: the body says ${String((raw as { name?: unknown }).name)}, the path ${name}`);
    try {
      return validatePoolSpec(raw, 'pool');
    } catch (error) {
      throw new CatalogError(400, (error as Error).message);
    }
  };

  const catalog = {
    /** Live pools, as published. */
    pools: (): PoolDefinition[] => [...entries.values()].filter((e) => !e.deleted).map((e) => e.definition),
    /** What the reconcile loop works on: live pools and deleted ones (drained) until their runners are gone. */
    supplyPools: (): PoolDefinition[] => [...entries.values()].map((e) => e.definition),
    entry: (name: string): CatalogEntry | undefined => entries.get(name),
    entries: (): CatalogEntry[] => [...entries.values()].filter((e) => !e.deleted),

    /**
     * Reads POOLS_FILE: its pools are created or replaced (their drain state kept), file pools it no
     * longer names are deleted. A file pool replaces an API pool of the same name. An unreadable or
     * invalid file changes nothing and throws.
     */
    reloadFile: (): Promise<string[]> =>
      serially(async () => {
        const specs = deps.file ? parsePoolFile(readPoolFile(deps.file)) : [];
        const client = await deps.db.connect();
        try {
          await client.query('BEGIN');
          for (const spec of specs) {
            if (entries.get(spec.name)?.source === 'api' && !entries.get(spec.name)?.deleted) deps.log.warn({ pool: spec.name }, 'POOLS_FILE declares a pool that was created through the API; the file wins');
            await client.query(
              `INSERT INTO pools (name, source, spec) VALUES ($1, 'file', $2)
                 ON CONFLICT (name) DO UPDATE SET source = 'file', spec = $2, deleted_at = NULL, updated_at = now()`,
              [spec.name, JSON.stringify(spec)],
            );
          }
          await client.query(`UPDATE pools SET deleted_at = now(), updated_at = now() WHERE source = 'file' AND deleted_at IS NULL AND NOT (name = ANY($1::text[]))`, [specs.map((s) => s.name)]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        } finally {
          client.release();
        }
        await load();
        await publish();
        deps.log.info({ pools: specs.map((s) => s.name), file: deps.file ?? '(none)' }, 'pool file loaded');
        return specs.map((s) => s.name);
      }),

    create: (body: unknown): Promise<CatalogEntry> =>
      serially(async () => {
        const spec = validated(body);
        const current = entries.get(spec.name);
        if (current && !current.deleted) throw new CatalogError(409, `pool ${spec.name} exists${current.source === 'file' ? ' (declared in POOLS_FILE)' : ''}`);
        await change(
          `INSERT INTO pools (name, source, spec) VALUES ($1, 'api', $2)
             ON CONFLICT (name) DO UPDATE SET source = 'api', spec = $2, drained = false, deleted_at = NULL, updated_at = now()`,
          [spec.name, JSON.stringify(spec)],
        );
        return entries.get(spec.name)!;
      }),

    update: (name: string, body: unknown): Promise<CatalogEntry> =>
      serially(async () => {
        writable(name);
        const spec = validated(body, name);
        await change(`UPDATE pools SET spec = $2, updated_at = now() WHERE name = $1`, [name, JSON.stringify(spec)]);
        return entries.get(name)!;
      }),

    delete: (name: string): Promise<void> =>
      serially(async () => {
        writable(name);
        await change(`UPDATE pools SET deleted_at = now(), updated_at = now() WHERE name = $1`, [name]);
      }),

    setDrained: (name: string, drained: boolean): Promise<CatalogEntry> =>
      serially(async () => {
        existing(name);
        await change(`UPDATE pools SET drained = $2, updated_at = now() WHERE name = $1`, [name, drained]);
        return entries.get(name)!;
      }),

    /**
     * Holds `min` warm runners in the pool instead of its minIdle and warm schedules, until `until`
     * (null: until cleared); `min` null clears it. At most the pool's max.
     */
    setWarm: (name: string, min: number | null, until: Date | null): Promise<CatalogEntry> =>
      serially(async () => {
        const entry = existing(name);
        if (min !== null && min > entry.definition.maxRunners) throw new CatalogError(400, `min: ${min} is above the pool's max ${entry.definition.maxRunners}`);
        await change(`UPDATE pools SET warm_min = $2, warm_until = $3 WHERE name = $1`, [name, min, min === null ? null : until]);
        return entries.get(name)!;
      }),

    /** The warm minimum the pool holds at `now`: the operator's while it lasts, else minIdle or an open warm schedule's. */
    warmNow: (pool: PoolDefinition, now: Date): number => warmHeld(entries.get(pool.name)?.warm ?? null, pool, now),

    /**
     * The hosts changed (one appeared, or reported another architecture or runtimes): pools whose
     * runners would now carry other labels are published again, so the scheduler matches against
     * what they will really carry.
     */
    followHosts: (current: readonly HostCapacity[]): Promise<string[]> =>
      serially(async () => {
        hosts = current;
        const changed: string[] = [];
        for (const entry of entries.values()) {
          const labels = poolRunnerLabels(entry.definition, hosts);
          if (labels.join('\n') === entry.definition.runnerLabels.join('\n')) continue;
          entry.definition.runnerLabels = labels;
          changed.push(entry.name);
          if (!entry.deleted) await kv.put(entry.name, contractsCodec.encode(poolDefinitionKvSubject(entry.name), entry.definition).data);
        }
        if (changed.length > 0) deps.log.info({ pools: changed }, 'pool runner labels follow the hosts that serve them');
        return changed;
      }),

    /** Forgets deleted pools whose last runner is gone. */
    purgeDeleted: (liveRunners: (pool: string) => Promise<number>): Promise<void> =>
      serially(async () => {
        let purged = false;
        for (const entry of entries.values()) {
          if (!entry.deleted || (await liveRunners(entry.name)) > 0) continue;
          await deps.db.query('DELETE FROM pools WHERE name = $1 AND deleted_at IS NOT NULL', [entry.name]);
          deps.log.info({ pool: entry.name }, 'deleted pool has no runners left; forgotten');
          purged = true;
        }
        if (purged) await load();
      }),
  };
  await catalog.reloadFile();
  return catalog;
}

export type PoolCatalog = Awaited<ReturnType<typeof openPoolCatalog>>;

/** The pools file's text; a missing file, or the directory Docker mounts in its place, named as such. */
function readPoolFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`POOLS_FILE ${path} does not exist: create it (start from deploy/pools.example.yaml; docs/pools.md)`, { cause: error });
    if (code === 'EISDIR') throw new Error(`POOLS_FILE ${path} is a directory, not a file (Docker makes one where a file to mount was missing): remove it and create the pools file`, { cause: error });
    throw error;
  }
}

/** The operator's warm minimum while it lasts, else the pool's own (minIdle or an open warm schedule's). */
export function warmHeld(warm: WarmOverride | null, pool: PoolDefinition, now: Date): number {
  if (warm && (warm.until === null || warm.until.getTime() > now.getTime())) return Math.min(warm.min, pool.maxRunners);
  return warmMinimum(pool, now);
}
