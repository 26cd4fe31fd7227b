import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, POOL_DEFINITIONS_BUCKET, poolDefinitionKvSubject, type PoolDefinition } from '@runnerhub/contracts';
import { watchKvView, type Logger } from '@runnerhub/platform';
import type { PoolReporting } from './report-state.js';

/**
 * The pools' `reporting` options, from the definitions the pool-manager publishes to the `rh-pools`
 * KV bucket and kept current by a watch (never the pool-manager's tables: one owner per table).
 */

export interface PoolOptions {
  /** undefined: the pool is unknown here, or its definition sets no options (defaults apply). */
  reporting(pool: string | null | undefined): PoolReporting | undefined;
  stop(): Promise<void>;
}

export async function watchPoolOptions(nc: NatsConnection, log: Logger): Promise<PoolOptions> {
  const view = await watchKvView(nc, POOL_DEFINITIONS_BUCKET, (key, value) => contractsCodec.decode(poolDefinitionKvSubject(key), value) as PoolDefinition, log);
  return {
    reporting(pool) {
      const r = pool ? view.get(pool)?.reporting : undefined;
      return r ? { checkRuns: r.checkRuns, jobReports: r.jobReports } : undefined;
    },
    stop: view.stop,
  };
}
