import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, POOL_DEFINITIONS_BUCKET, poolDefinitionKvSubject, type PoolDefinition } from '@runnerhub/contracts';
import type { Logger } from '@runnerhub/platform';
import type { PoolReporting } from './report-state.js';

/**
 * The pools' `reporting` options, from the definitions the pool-manager publishes to the `rh-pools`
 * KV bucket and kept current by a watch (never the pool-manager's tables: one owner per table).
 */

/** Pause before watching again after a watch ended. */
const WATCH_RETRY_MS = 1_000;

export interface PoolOptions {
  /** undefined: the pool is unknown here, or its definition sets no options (defaults apply). */
  reporting(pool: string | null | undefined): PoolReporting | undefined;
  stop(): Promise<void>;
}

export async function watchPoolOptions(nc: NatsConnection, log: Logger): Promise<PoolOptions> {
  // create() opens the bucket when it exists; the pool-manager owns its settings.
  const kv = await new Kvm(nc).create(POOL_DEFINITIONS_BUCKET, { history: 1 });
  const pools = new Map<string, PoolDefinition>();
  let stopped = false;
  let watch: Awaited<ReturnType<typeof kv.watch>> | undefined;
  const done = (async () => {
    while (!stopped) {
      try {
        // A new watch replays every current definition first, so nothing is missed.
        watch = await kv.watch();
        for await (const e of watch) {
          if (e.operation !== 'PUT') {
            pools.delete(e.key);
            continue;
          }
          try {
            pools.set(e.key, contractsCodec.decode(poolDefinitionKvSubject(e.key), e.value) as PoolDefinition);
          } catch (err) {
            log.error({ pool: e.key, err: (err as Error).message }, 'pool definition in the KV bucket cannot be decoded; its reporting options are the defaults');
          }
        }
      } catch (err) {
        if (!stopped) log.warn({ err: (err as Error).message }, 'pool definitions watch failed; watching again');
      }
      if (!stopped) await new Promise((r) => setTimeout(r, WATCH_RETRY_MS));
    }
  })();
  return {
    reporting(pool) {
      const r = pool ? pools.get(pool)?.reporting : undefined;
      return r ? { checkRuns: r.checkRuns, jobReports: r.jobReports } : undefined;
    },
    async stop() {
      stopped = true;
      watch?.stop();
      await done;
    },
  };
}
