import createClient, { type Client } from 'openapi-fetch';
import type { Service, Settings } from './config.js';
import { serviceVariable } from './config.js';
import { CliError, EXIT } from './errors.js';
import type { paths as ExecutorPaths } from './gen/container-executor.js';
import type { paths as MetricsPaths } from './gen/metrics.js';
import type { paths as PoolManagerPaths } from './gen/pool-manager.js';
import type { paths as SchedulerPaths } from './gen/scheduler.js';
import type { paths as ReporterPaths } from './gen/status-reporter.js';
import type { paths as GatewayPaths } from './gen/webhook-gateway.js';

/**
 * Typed clients of the six admin APIs, from the types generated out of each service's own
 * /openapi.json (src/gen, checked for staleness by e2e/test/cli.test.ts). `must` turns an answer
 * into its body, or into an error that says what to do.
 */

export interface Clients {
  settings: Settings;
  scheduler: Client<SchedulerPaths>;
  poolManager: Client<PoolManagerPaths>;
  executor: Client<ExecutorPaths>;
  metrics: Client<MetricsPaths>;
  reporter: Client<ReporterPaths>;
  gateway: Client<GatewayPaths>;
  /** A promise of an answer of `service`, as its body; errors carry an exit code and a hint. */
  must<R extends { data?: unknown; error?: unknown; response: Response }>(service: Service, answer: Promise<R>): Promise<NonNullable<R['data']>>;
}

const TIMEOUT_MS = 10_000;

export function createClients(settings: Settings): Clients {
  const make = <P extends object>(service: Service): Client<P> =>
    createClient<P>({
      baseUrl: settings.urls[service],
      headers: settings.token ? { authorization: `Bearer ${settings.token}` } : {},
      fetch: (req: Request) => fetch(req, { signal: AbortSignal.timeout(TIMEOUT_MS) }),
    });
  return {
    settings,
    scheduler: make<SchedulerPaths>('scheduler'),
    poolManager: make<PoolManagerPaths>('pool-manager'),
    executor: make<ExecutorPaths>('container-executor'),
    metrics: make<MetricsPaths>('metrics'),
    reporter: make<ReporterPaths>('status-reporter'),
    gateway: make<GatewayPaths>('webhook-gateway'),
    async must(service, answer) {
      let r;
      try {
        r = await answer;
      } catch (error) {
        throw unreachable(settings, service, error);
      }
      if (r.response.ok) return r.data as NonNullable<(typeof r)['data']>;
      throw httpError(settings, service, r.response.status, r.error);
    },
  };
}

export function unreachable(settings: Settings, service: Service, error: unknown): CliError {
  const cause = error as { cause?: { code?: string; message?: string }; name?: string; message?: string };
  const why = cause.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : (cause.cause?.code ?? cause.cause?.message ?? cause.message ?? String(error));
  return new CliError(
    EXIT.unreachable,
    `cannot reach the ${service} at ${settings.urls[service]} (${why}): is it running (make run, docker compose ps)? Point the CLI at it with RUNNERHUB_URL=http://<host> or ${serviceVariable(service)}`,
  );
}

export function httpError(settings: Settings, service: Service, status: number, body: unknown): CliError {
  const message = typeof body === 'object' && body !== null && 'message' in body ? String((body).message) : JSON.stringify(body);
  if (status === 401) {
    const hint = settings.token
      ? `the token (from ${settings.tokenSource}) is not one of the ${service}'s ADMIN_TOKENS: set RUNNERHUB_TOKEN to one of them`
      : 'no token: set RUNNERHUB_TOKEN to a token of ADMIN_TOKENS (make run writes .run/runnerhub.env with one)';
    return new CliError(EXIT.auth, `the ${service} refused the request (401 ${message}): ${hint}`, status);
  }
  if (status === 403) return new CliError(EXIT.auth, `the ${service} refused the request (403): ${message}. This needs a token of scope write (ADMIN_TOKENS name:write:token)`, status);
  if (status === 404) return new CliError(EXIT.notFound, message, status);
  if (status >= 500) return new CliError(EXIT.failed, `the ${service} failed (${status}): ${message}`, status);
  return new CliError(EXIT.refused, message, status);
}
