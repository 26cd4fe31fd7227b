import { streamDefinitions } from '@runnerhub/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { configSchema as executorSchema, secretSpecs as executorSecrets, start as startExecutor } from '@runnerhub/container-executor';
import { configSchema as metricsSchema, secretSpecs as metricsSecrets, start as startMetrics } from '@runnerhub/metrics';
import {
  bootService,
  connectNats,
  createLifecycle,
  ensureStreams,
  natsTlsSettings,
  registerTelemetryGlobals,
  waitForDependency,
  type Booted,
  type Logger,
  type RunningService,
  type ServiceDeps,
} from '@runnerhub/platform';
import { configSchema as poolManagerSchema, secretSpecs as poolManagerSecrets, start as startPoolManager } from '@runnerhub/pool-manager';
import { configSchema as schedulerSchema, secretSpecs as schedulerSecrets, start as startScheduler } from '@runnerhub/scheduler';
import { configSchema as reporterSchema, secretSpecs as reporterSecrets, start as startReporter } from '@runnerhub/status-reporter';
import { configSchema as gatewaySchema, secretSpecs as gatewaySecrets, start as startGateway } from '@runnerhub/webhook-gateway';
import type { TObject } from '@sinclair/typebox';
import { configSchema, secretSpecs } from './config.js';
import { ignoredShared, sectionEnv, sectionOf, SERVICE_NAMES, type ServiceName } from './sections.js';

type Start = (config: never, deps: ServiceDeps) => Promise<RunningService>;
interface ServiceModule {
  schema: TObject;
  secrets: Parameters<typeof bootService>[0]['secrets'];
  start: Start;
}

/** The six, by name; each is the same start() its own main.ts calls. */
export const MODULES: Record<ServiceName, ServiceModule> = {
  'container-executor': { schema: executorSchema, secrets: executorSecrets, start: startExecutor },
  'pool-manager': { schema: poolManagerSchema, secrets: poolManagerSecrets, start: startPoolManager },
  scheduler: { schema: schedulerSchema, secrets: schedulerSecrets, start: startScheduler },
  'webhook-gateway': { schema: gatewaySchema, secrets: gatewaySecrets, start: startGateway },
  'status-reporter': { schema: reporterSchema, secrets: reporterSecrets, start: startReporter },
  metrics: { schema: metricsSchema, secrets: metricsSecrets, start: startMetrics },
};

/** A little past the services' own deadline: they stop together, then the shared connection drains. */
const DRAIN_MS = 3_000;

type NatsSettings = { url: string; tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } };
const sameNats = (a: NatsSettings, b: NatsSettings): boolean => JSON.stringify([a.url, a.tls ?? {}]) === JSON.stringify([b.url, b.tls ?? {}]);

/**
 * The all-in-one: validates the process's config and every chosen service's section before
 * anything connects (a bad variable stops the process naming the service and the variable), owns
 * the signals, OpenTelemetry's globals and one NATS connection, then starts the services one after
 * the other. Postgres is not shared: each service's pool is pinned to its own schema (search_path).
 */
export async function runAllInOne(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { config, deps } = await bootService({ service: 'all-in-one', schema: configSchema, secrets: secretSpecs, env, ownsProcess: false });
  const { log } = deps;
  const unknown = config.services.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
  if (unknown.length > 0 || config.services.length === 0) {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'all-in-one', msg: `ALL_IN_ONE_SERVICES: ${unknown.length ? `unknown ${unknown.join(', ')}` : 'empty'}; choose of ${SERVICE_NAMES.join(', ')}` })}\n`);
    process.exit(1);
  }
  const chosen = SERVICE_NAMES.filter((s) => config.services.includes(s));
  const ignored = ignoredShared(env);
  if (ignored.length > 0) log.warn({ ignored }, `${ignored.join(', ')} ${ignored.length > 1 ? 'are' : 'is'} per service in the all-in-one and not passed on: set ${sectionOf('scheduler')}${ignored[0]!} and the like`);

  const booted: Array<[ServiceName, Booted<{ nats: NatsSettings }>]> = [];
  for (const name of chosen) {
    const m = MODULES[name];
    booted.push([name, (await bootService({ service: name, schema: m.schema, secrets: m.secrets, env: sectionEnv(name, env), ownsProcess: false })) as Booted<{ nats: NatsSettings }>]);
  }

  const lifecycle = createLifecycle(log, config.shutdown.timeoutMs + DRAIN_MS);
  lifecycle.installSignalHandlers();
  const telemetry = registerTelemetryGlobals(config.telemetry);
  lifecycle.onStop('telemetry', () => telemetry.shutdown());
  const running: RunningService[] = [];
  try {
    const nc = await connectShared(log, config.nats);
    lifecycle.onStop('nats', () => nc.drain());
    // Stopped together under one deadline, each newest part first as when alone.
    lifecycle.onStop('services', async () => void (await Promise.all(running.map((r) => r.close('all-in-one stopping')))));
    for (const [name, b] of booted) {
      const shared = sameNats(b.config.nats, config.nats);
      if (!shared) log.info({ service: name }, 'own NATS settings in its section: it connects on its own');
      running.push(await MODULES[name].start(b.config as never, { ...b.deps, ...(shared ? { nats: nc } : {}) }));
    }
    log.info({ services: chosen, pid: process.pid }, `all in one process: ${chosen.join(', ')}`);
  } catch (err) {
    log.fatal({ err }, `start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    await lifecycle.shutdown('start-up failed');
    process.exit(1);
  }
}

async function connectShared(log: Logger, settings: NatsSettings): Promise<NatsConnection> {
  let nc: NatsConnection | undefined;
  const tls = natsTlsSettings(settings.tls);
  await waitForDependency({ log }, 'nats', async () => {
    nc = await connectNats({ servers: settings.url, name: 'runnerhub-all-in-one', log, ...(tls ? { tls } : {}) });
  });
  await ensureStreams(nc!, Object.values(streamDefinitions));
  return nc!;
}
