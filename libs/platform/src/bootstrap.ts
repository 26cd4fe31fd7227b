import type { Static, TObject } from '@sinclair/typebox';
import { loadSecrets, type SecretSpec, type Secrets } from '@runnerhub/secrets';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './logging.js';
import { createLifecycle, type Lifecycle } from './lifecycle.js';
import { createReadiness, type Readiness } from './readiness.js';
import { startTelemetry, type Telemetry } from './telemetry.js';
import { RUNNERHUB_VERSION } from './version.js';

/** The parts every service starts the same way; main.ts wires the rest explicitly. */
export interface ServiceBase<C> {
  service: string;
  config: C;
  secrets: Secrets;
  log: Logger;
  telemetry: Telemetry;
  readiness: Readiness;
  lifecycle: Lifecycle;
  /** Logs why start-up failed, stops what was started, and exits 1. */
  failStartup(err: unknown): Promise<never>;
}

/** The config groups bootService reads; every service schema includes them. */
type BaseConfig = {
  log: { level: string };
  shutdown: { timeoutMs: number };
  telemetry: { serviceName: string; otlpEndpoint?: string | undefined };
};

export interface BootSettings<T extends TObject> {
  service: string;
  schema: T;
  secrets: readonly SecretSpec[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Validates config and resolves secrets before anything connects anywhere; a bad variable or a
 * missing secret stops the service with one message naming each of them, and exit code 1.
 */
export async function bootService<T extends TObject>(b: BootSettings<T>): Promise<ServiceBase<Readonly<Static<T>>>> {
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
  const lifecycle = createLifecycle(log, base.shutdown.timeoutMs);
  lifecycle.installSignalHandlers();
  const telemetry = startTelemetry({ serviceName: base.telemetry.serviceName, otlpEndpoint: base.telemetry.otlpEndpoint });
  lifecycle.onStop('telemetry', () => telemetry.shutdown());
  const readiness = createReadiness(log);
  lifecycle.onShutdownStart(() => readiness.markStopping());
  lifecycle.onStop('readiness', () => readiness.close());
  lifecycle.onStop('secrets', () => secrets?.close());
  log.info({ service: b.service, version: RUNNERHUB_VERSION, node: process.versions.node, pid: process.pid }, `starting ${b.service} ${RUNNERHUB_VERSION} (Node.js ${process.versions.node})`);
  const failStartup = async (err: unknown): Promise<never> => {
    log.fatal({ err }, `start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    await lifecycle.shutdown('start-up failed');
    process.exit(1);
  };
  return { service: b.service, config, secrets: secrets, log, telemetry, readiness, lifecycle, failStartup };
}

function fail(service: string, message: string, extra: Record<string, unknown> = {}): never {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service, msg: message, ...extra })}\n`);
  process.exit(1);
}
