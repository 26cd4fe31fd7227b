import { fileURLToPath } from 'node:url';
import type { ServiceBase } from './bootstrap.js';
import type { HttpServer } from './http.js';
import { createPostgres, migrate, type Postgres } from './postgres.js';
import { createRedis, type RedisHandle } from './redis.js';
import { checkNats, connectNats, natsTlsSettings, type NatsTlsFiles } from './nats/connection.js';
import { ensureStreams, type StreamDefinition } from './nats/streams.js';
import type { Consumer } from './nats/consume.js';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Readiness } from './readiness.js';

/**
 * Each helper connects one dependency the same way in every service: wait for it at start (bounded),
 * add its readiness check, and register its stop in the lifecycle. main.ts calls them in order, which
 * is also the reverse of the stop order.
 */

/** How long a service waits at start for a dependency before it exits and says which one. */
export const STARTUP_WAIT_MS = 60_000;

export async function waitForDependency(base: Pick<ServiceBase<unknown>, 'log'>, name: string, probe: () => Promise<unknown>, waitMs = STARTUP_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      await probe();
      if (attempt > 1) base.log.info({ dependency: name }, 'dependency answers');
      return;
    } catch (err) {
      if (Date.now() + delay > deadline) {
        throw new Error(`${name} did not answer within ${Math.round(waitMs / 1000)} s: ${(err as Error).message}`, { cause: err });
      }
      if (attempt === 1) base.log.warn({ dependency: name, err: (err as Error).message }, 'waiting for dependency');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** Connects, provisions the streams (idempotent; every service may write or read any of them) and drains on stop. */
export async function connectNatsFor(
  base: ServiceBase<unknown>,
  settings: { url: string; tls?: NatsTlsFiles },
  streams: Readonly<Record<string, StreamDefinition>> | readonly StreamDefinition[],
): Promise<NatsConnection> {
  const given = base.deps.nats;
  if (given) {
    // The process's connection (the all-in-one): the process drains it once every service stopped.
    await ensureStreams(given, Array.isArray(streams) ? streams : Object.values(streams));
    base.readiness.addCheck('nats', () => checkNats(given));
    return given;
  }
  let nc: NatsConnection | undefined;
  const tls = natsTlsSettings(settings.tls);
  await waitForDependency(base, 'nats', async () => {
    nc = await connectNats({ servers: settings.url, name: base.service, log: base.log, ...(tls ? { tls } : {}) });
  });
  const conn = nc!;
  // Drain: pending publishes are flushed and subscriptions finish before the socket closes.
  base.lifecycle.onStop('nats', () => conn.drain());
  await ensureStreams(conn, Array.isArray(streams) ? streams : Object.values(streams));
  base.readiness.addCheck('nats', () => checkNats(conn));
  return conn;
}

/**
 * Consumers pull only while the service is ready: they resume when readiness turns ready and pause
 * while a dependency is down or shutdown has begun; on stop they finish what is in flight.
 */
export function runConsumersWhenReady(base: { readiness: Readiness; lifecycle: ServiceBase<unknown>['lifecycle'] }, consumers: readonly Consumer[]): void {
  const follow = (ready: boolean) => {
    for (const c of consumers) {
      if (c.state() === 'stopped') continue;
      if (ready) c.resume();
      else c.pause();
    }
  };
  base.readiness.onChange(follow);
  base.lifecycle.onStop('consumers', async () => {
    await Promise.all(consumers.map((c) => c.stop()));
  });
  follow(base.readiness.report().ready);
}

export async function connectPostgresFor(
  base: ServiceBase<unknown>,
  settings: { url: string; poolMax: number },
  schema: { name: string; migrations: URL },
): Promise<Postgres> {
  const db = createPostgres({ url: settings.url, poolMax: settings.poolMax, schema: schema.name, applicationName: `runnerhub-${schema.name}`, log: base.log });
  base.lifecycle.onStop('postgres', () => db.close());
  await waitForDependency(base, 'postgres', () => db.check());
  await migrate(db, fileURLToPath(schema.migrations), base.log);
  base.readiness.addCheck('postgres', () => db.check());
  return db;
}

export async function connectRedisFor(base: ServiceBase<unknown>, settings: { url: string }, name: string): Promise<RedisHandle> {
  const redis = createRedis(settings.url, base.log, name);
  base.lifecycle.onStop('redis', () => redis.close());
  await waitForDependency(base, 'redis', () => redis.check());
  base.readiness.addCheck('redis', () => redis.check());
  return redis;
}

/** Listens last, so nothing is served before the service can do its work; closes first on stop. */
export async function startHttp(base: ServiceBase<unknown>, app: HttpServer, settings: { host: string; port: number }): Promise<string> {
  base.lifecycle.onStop('http', () => app.close());
  const address = await app.listen({ host: settings.host, port: settings.port });
  base.log.info({ address }, 'listening');
  return address;
}
