import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, POOL_DEFINITIONS_BUCKET, poolDefinitionKvSubject, type PoolDefinition } from '@runnerhub/contracts';
import type { Logger } from '@runnerhub/platform';
import type { PoolLabels } from './matching.js';

/**
 * The pool definitions the pool-manager publishes to the `rh-pools` KV bucket, kept current by a
 * watch. Never read from the pool-manager's tables: one owner per table.
 */

/** What a just-in-time runner on an x64 Linux host registers with before any pool label. */
export const DEFAULT_RUNNER_LABELS = ['self-hosted', 'linux', 'x64'];

/** Pause before watching again after a watch ended. */
const WATCH_RETRY_MS = 1_000;

export interface PoolDirectory {
  /** Every published pool, drained ones included (a drained pool still serves its labels; its jobs wait). */
  current(): PoolLabels[];
  get(name: string): PoolDefinition | undefined;
  all(): PoolDefinition[];
  /** Called (coalesced) after definitions changed. */
  onChange(listener: () => void): void;
  stop(): Promise<void>;
}

/** A burst of KV updates (a file reload) is one change. */
const CHANGE_COALESCE_MS = 300;

export async function watchPools(nc: NatsConnection, log: Logger): Promise<PoolDirectory> {
  // create() opens the bucket when it exists; the pool-manager owns its settings.
  const kv = await new Kvm(nc).create(POOL_DEFINITIONS_BUCKET, { history: 1 });
  const pools = new Map<string, PoolDefinition>();
  let stopped = false;
  let watch: Awaited<ReturnType<typeof kv.watch>> | undefined;
  const listeners: Array<() => void> = [];
  let changeTimer: NodeJS.Timeout | undefined;
  const changed = () => {
    changeTimer ??= setTimeout(() => {
      changeTimer = undefined;
      for (const listener of listeners) listener();
    }, CHANGE_COALESCE_MS);
  };
  // The watch survives reconnects; if it ends anyway (stream recreated, server replaced), start a
  // new one: it replays every current definition first, so nothing is missed.
  const done = (async () => {
    while (!stopped) {
      try {
        watch = await kv.watch();
        for await (const e of watch) {
          changed();
          if (e.operation !== 'PUT') {
            pools.delete(e.key);
            continue;
          }
          try {
            pools.set(e.key, contractsCodec.decode(poolDefinitionKvSubject(e.key), e.value) as PoolDefinition);
          } catch (err) {
            log.error({ pool: e.key, err: (err as Error).message }, 'pool definition in the KV bucket cannot be decoded; ignoring it');
          }
        }
      } catch (err) {
        if (!stopped) log.warn({ err: (err as Error).message }, 'pool definitions watch failed; watching again');
      }
      if (!stopped) await new Promise((r) => setTimeout(r, WATCH_RETRY_MS));
    }
  })();
  return {
    current: () => [...pools.values()].map((p) => ({ name: p.name, labels: [...DEFAULT_RUNNER_LABELS, ...p.labels], priority: p.priority, drained: p.drained })),
    get: (name) => pools.get(name),
    all: () => [...pools.values()],
    onChange: (listener) => void listeners.push(listener),
    async stop() {
      stopped = true;
      clearTimeout(changeTimer);
      watch?.stop();
      await done;
    },
  };
}
