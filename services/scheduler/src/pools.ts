import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, POOL_DEFINITIONS_BUCKET, poolDefinitionKvSubject, type PoolDefinition } from '@runnerhub/contracts';
import { watchKvView, type Logger } from '@runnerhub/platform';
import type { PoolLabels } from './matching.js';

/**
 * The pool definitions the pool-manager publishes to the `rh-pools` KV bucket, kept current by a
 * watch. Never read from the pool-manager's tables: one owner per table.
 */

/** What a just-in-time runner on an x64 Linux host registers with before any pool label. */
export const DEFAULT_RUNNER_LABELS = ['self-hosted', 'linux', 'x64'];

export interface PoolDirectory {
  /** Every published pool, drained ones included (a drained pool still serves its labels; its jobs wait). */
  current(): PoolLabels[];
  get(name: string): PoolDefinition | undefined;
  all(): PoolDefinition[];
  /** Called (coalesced) after definitions changed. */
  onChange(listener: () => void): void;
  stop(): Promise<void>;
}

export async function watchPools(nc: NatsConnection, log: Logger): Promise<PoolDirectory> {
  const view = await watchKvView(nc, POOL_DEFINITIONS_BUCKET, (key, value) => contractsCodec.decode(poolDefinitionKvSubject(key), value) as PoolDefinition, log);
  return {
    current: () => view.values().map((p) => ({ name: p.name, labels: [...DEFAULT_RUNNER_LABELS, ...p.labels], priority: p.priority, drained: p.drained })),
    get: view.get,
    all: view.values,
    onChange: view.onChange,
    stop: view.stop,
  };
}
