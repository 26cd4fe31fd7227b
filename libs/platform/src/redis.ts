import { Redis } from 'ioredis';
import type { Logger } from './logging.js';

export interface RedisHandle {
  client: Redis;
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Commands fail fast while Redis is away (no offline queue), so callers see the outage instead of
 * piling up work; the client keeps reconnecting in the background.
 */
export function createRedis(url: string, log: Logger, name: string): RedisHandle {
  const client = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2_000),
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) log.warn({ err: err.message }, 'redis connection lost');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info('redis connection restored');
    down = false;
  });
  return {
    client,
    async check() {
      if (client.status !== 'ready') throw new Error(`redis is ${client.status}`);
      await client.ping();
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
