import { readFileSync } from 'node:fs';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, POOL_DEFINITIONS_BUCKET, poolDefinitionKvSubject, type PoolDefinition } from '@runnerhub/contracts';
import type { Logger } from '@runnerhub/platform';
import { parsePoolFile } from './pool-file.js';

/**
 * The pools, read from POOLS_FILE and published to the `rh-pools` KV bucket, which the scheduler
 * (and every other service) watches. The pool-manager owns the bucket: a pool gone from the file is
 * deleted from it.
 */
export async function publishPoolFile(nc: NatsConnection, path: string | undefined, log: Logger): Promise<PoolDefinition[]> {
  const pools = path ? parsePoolFile(readFileSync(path, 'utf8')) : [];
  const kv = await new Kvm(nc).create(POOL_DEFINITIONS_BUCKET, { history: 1 });
  const names = new Set(pools.map((p) => p.name));
  for (const pool of pools) await kv.put(pool.name, contractsCodec.encode(poolDefinitionKvSubject(pool.name), pool).data);
  for await (const key of await kv.keys()) {
    if (!names.has(key)) await kv.delete(key);
  }
  log.info({ pools: [...names], file: path ?? '(none)' }, 'pool definitions published');
  return pools;
}
