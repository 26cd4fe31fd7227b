import type { Static, TObject } from '@sinclair/typebox';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadSecrets, type SecretSpec, type Secrets } from '@runnerhub/secrets';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './logging.js';
import { createLifecycle, type Lifecycle } from './lifecycle.js';
import { createReadiness, type Readiness } from './readiness.js';
import { startTelemetry, type Telemetry } from './telemetry.js';
import { RUNNERHUB_VERSION } from './version.js';

/**
 * A service is started by its `start(config, deps)`: one per process (its main.ts, through
 * bootService) or six in one process (the all-in-one). What belongs to the process is given in
 * `deps`: the signal handlers, OpenTelemetry's globals (context, propagation, the tracer provider)
 * and, in the all-in-one, the NATS connection. What belongs to the service is made by openService:
 * its stop list, its readiness, its metrics (a meter provider and /metrics of its own) and its logger.
 */
export interface ServiceDeps {
  secrets: Secrets;
  log: Logger;
  /** A connection the process owns (the all-in-one's): the service uses it and leaves it open on close. */
  nats?: NatsConnection;
  /**
   * This service is the whole process: it installs the signal handlers, registers OpenTelemetry's
   * globals and exits 1 when start-up fails. Otherwise start-up failure rejects start().
   */
  ownsProcess: boolean;
}

/** What start() returns: a service running until close(). */
export interface RunningService {
  service: string;
  readiness: Readiness;
  /** Stops the service's parts newest-first under its shutdown deadline; true when all stopped cleanly. */
  close(reason?: string): Promise<boolean>;
}

/** The parts every service starts the same way; its start() wires the rest explicitly. */
export interface ServiceBase<C> {
  service: string;
  config: C;
  secrets: Secrets;
  log: Logger;
  telemetry: Telemetry;
  readiness: Readiness;
  lifecycle: Lifecycle;
  deps: ServiceDeps;
  /** Logs why start-up failed, stops what was started, and exits 1 (or rethrows, when the process is not the service's). */
  failStartup(err: unknown): Promise<never>;
  /** The handle start() returns. */
  running(): RunningService;
}

/** The config groups openService reads; every service schema includes them. */
export type BaseConfig = {
  log: { level: string };
  shutdown: { timeoutMs: number };
  telemetry: { serviceName: string; otlpEndpoint?: string | undefined };
};

export interface BootSettings<T extends TObject> {
  service: string;
  schema: T;
  secrets: readonly SecretSpec[];
  env?: NodeJS.ProcessEnv;
  /** Default true: the service is the process (see ServiceDeps.ownsProcess). */
  ownsProcess?: boolean;
}

export interface Booted<C> {
  config: C;
  deps: ServiceDeps;
}

/**
 * Validates config and resolves secrets before anything connects anywhere; a bad variable or a
 * missing secret stops the process with one message naming each of them, and exit code 1.
 */
export async function bootService<T extends TObject>(b: BootSettings<T>): Promise<Booted<Readonly<Static<T>>>> {
  const env = b.env ?? process.env;
  let config: Readonly<Static<T>>;
  try {
    config = loadConfig(b.schema, env);
  } catch (err) {
    if (err instanceof ConfigError) fail(b.service, err.message, { problems: err.problems });
    throw err;
  }
  const base = config as unknown as BaseConfig;
  let secrets: Secrets | undefined;
  const log = createLogger({
    service: b.service,
    level: base.log.level,
    secretNames: b.secrets.map((s) => s.name),
    secretValues: () => secrets?.values() ?? [],
  });
  try {
    secrets = await loadSecrets([...b.secrets], { env, log });
  } catch (err) {
    log.fatal({ err }, 'cannot resolve secrets');
    fail(b.service, (err as Error).message);
  }
  return { config, deps: { secrets, log, ownsProcess: b.ownsProcess ?? true } };
}

/** The service's own parts (stop list, readiness, metrics); the process's only when it owns the process. */
export function openService<C>(service: string, config: C, deps: ServiceDeps): ServiceBase<C> {
  const base = config as unknown as BaseConfig;
  const { log, secrets } = deps;
  const lifecycle = createLifecycle(log, base.shutdown.timeoutMs);
  if (deps.ownsProcess) lifecycle.installSignalHandlers();
  const telemetry = startTelemetry({ serviceName: base.telemetry.serviceName, otlpEndpoint: base.telemetry.otlpEndpoint, globals: deps.ownsProcess });
  lifecycle.onStop('telemetry', () => telemetry.shutdown());
  const readiness = createReadiness(log);
  lifecycle.onShutdownStart(() => readiness.markStopping());
  lifecycle.onStop('readiness', () => readiness.close());
  lifecycle.onStop('secrets', () => secrets.close());
  log.info({ service, version: RUNNERHUB_VERSION, node: process.versions.node, pid: process.pid }, `starting ${service} ${RUNNERHUB_VERSION} (Node.js ${process.versions.node})`);
  const failStartup = async (err: unknown): Promise<never> => {
    log.fatal({ err }, `start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    await lifecycle.shutdown('start-up failed');
    if (deps.ownsProcess) process.exit(1);
    throw err;
  };
  const running = (): RunningService => ({ service, readiness, close: (reason = 'closed') => lifecycle.shutdown(reason) });
  return { service, config, secrets, log, telemetry, readiness, lifecycle, deps, failStartup, running };
}

/**
 * A service's `start(config, deps)` from its wiring: opens the service's parts, runs `wire` (which
 * connects, starts loops and consumers and listens last), and on a failure stops what was started
 * (failStartup). The wiring reads like a main.ts: one statement per part, in start order.
 */
export function defineService<C>(service: string, wire: (base: ServiceBase<C>) => Promise<void>): (config: C, deps: ServiceDeps) => Promise<RunningService> {
  return async (config, deps) => {
    const base = openService(service, config, deps);
    try {
      await wire(base);
    } catch (err) {
      await base.failStartup(err);
    }
    return base.running();
  };
}

function fail(service: string, message: string, extra: Record<string, unknown> = {}): never {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service, msg: message, ...extra })}\n`);
  process.exit(1);
}
