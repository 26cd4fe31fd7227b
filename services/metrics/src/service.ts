import { streamDefinitions } from '@runnerhub/contracts';
import { defineService, connectNatsFor, createHttpServer, createRedis, createSessions, parseAdminTokens, runConsumersWhenReady, startHttp } from '@runnerhub/platform';
import type { Static } from '@sinclair/typebox';
import type { configSchema } from './config.js';
import { consumeStreams } from './consumers.js';
import { registerConsole } from './console/routes.js';
import { createUpstreams } from './console/upstream.js';
import { registerDeadLetterRoutes } from './dead-letters.js';
import { factMetrics } from './facts.js';
import { githubBudgetMetrics } from './github-budget.js';
import { levelMetrics } from './levels.js';

export type MetricsConfig = Readonly<Static<typeof configSchema>>;

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
export const start = defineService<MetricsConfig>('metrics', async (base) => {
  const { config, log, readiness, telemetry, secrets, lifecycle } = base;
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  // Redis only feeds the GitHub budget gauges: not a readiness dependency, so an outage leaves the
  // event metrics flowing and the budget gauges at their last values.
  const redis = createRedis(config.redis.url, log, 'metrics');
  lifecycle.onStop('redis', () => redis.close());
  const budget = githubBudgetMetrics(telemetry.meter, { redis: redis.client, seconds: config.metrics.budgetSeconds, log });
  lifecycle.onStop('github-budget', () => budget.stop());

  const facts = factMetrics(telemetry.meter, config.metrics);
  for (const stream of Object.keys(streamDefinitions)) facts.knowStream(stream);
  const levels = levelMetrics(telemetry.meter, { onPool: (pool) => facts.knowPool(pool) });
  // Facts reach the console once it exists (below); until then there is nobody to tell.
  let changed = (): void => undefined;
  runConsumersWhenReady(base, await consumeStreams(nc, { facts, levels, log, changed: () => changed() }));

  const adminTokens = parseAdminTokens(secrets.find('ADMIN_TOKENS'));
  const c = config.console;
  const sessions = createSessions({ tokens: adminTokens, path: '/console', loginPath: '/console/login', secure: c.secureCookie });
  const http = await createHttpServer({ service: 'metrics', log, readiness, telemetry, adminTokens, sessions });
  registerDeadLetterRoutes(http, nc);
  const hub = c.enabled
    ? registerConsole(http, {
        upstreams: createUpstreams({ 'webhook-gateway': c.gatewayUrl, scheduler: c.schedulerUrl, 'pool-manager': c.poolManagerUrl, 'container-executor': c.executorUrl, 'status-reporter': c.statusReporterUrl }),
        sessions,
        readiness,
        log,
        redis: redis.client,
        grafanaUrl: c.grafanaUrl,
        githubUrl: c.githubUrl,
        githubApiUrl: config.github.apiUrl,
        publicUrl: c.publicUrl,
        secretsDir: c.secretsDir,
      })
    : undefined;
  await startHttp(base, http, config.http);
  // Registered after the HTTP server, so stopped before it: open event streams would hold its close.
  if (hub) {
    changed = () => hub.changed();
    lifecycle.onStop('console-live', () => hub.close());
  }
  readiness.markStarted();
});
