import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsLog } from './connection.js';

/**
 * A live, read-only copy of a NATS KV bucket another service owns (pool definitions, say), kept
 * current by a watch. The watch survives reconnects; if it ends anyway (stream recreated, server
 * replaced) a new one starts and replays every current value first, so nothing is missed. A value
 * that cannot be decoded is left out with one error line.
 */

/** Pause before watching again after a watch ended. */
const WATCH_RETRY_MS = 1_000;
/** A burst of updates (a whole file of pools reloaded) is one change. */
const CHANGE_COALESCE_MS = 300;

// Properties, not methods: callers hand them on as plain functions.
export interface KvView<T> {
  get: (key: string) => T | undefined;
  values: () => T[];
  /** Called, coalesced, after values changed. */
  onChange: (listener: () => void) => void;
  stop: () => Promise<void>;
}

export async function watchKvView<T>(nc: NatsConnection, bucket: string, decode: (key: string, value: Uint8Array) => T, log: NatsLog): Promise<KvView<T>> {
  // create() opens the bucket when it exists; its owner sets it up.
  const kv = await new Kvm(nc).create(bucket, { history: 1 });
  const values = new Map<string, T>();
  const listeners: Array<() => void> = [];
  let changeTimer: NodeJS.Timeout | undefined;
  const changed = () => {
    changeTimer ??= setTimeout(() => {
      changeTimer = undefined;
      for (const listener of listeners) listener();
    }, CHANGE_COALESCE_MS);
  };
  let stopped = false;
  let watch: Awaited<ReturnType<typeof kv.watch>> | undefined;
  const done = (async () => {
    while (!stopped) {
      try {
        watch = await kv.watch();
        for await (const e of watch) {
          changed();
          if (e.operation !== 'PUT') {
            values.delete(e.key);
            continue;
          }
          try {
            values.set(e.key, decode(e.key, e.value));
          } catch (err) {
            values.delete(e.key);
            log.error({ bucket, key: e.key, err: (err as Error).message }, 'KV value cannot be decoded; left out');
          }
        }
      } catch (err) {
        if (!stopped) log.warn({ bucket, err: (err as Error).message }, 'KV watch failed; watching again');
      }
      if (!stopped) await new Promise((r) => setTimeout(r, WATCH_RETRY_MS));
    }
  })();
  return {
    get: (key) => values.get(key),
    values: () => [...values.values()],
    onChange: (listener) => void listeners.push(listener),
    async stop() {
      stopped = true;
      clearTimeout(changeTimer);
      watch?.stop();
      await done;
    },
  };
}
