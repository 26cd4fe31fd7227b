import { streamDefinitions } from '@runnerhub/contracts';
import { bootService, connectNatsFor, createHttpServer, createRedis, parseAdminTokens, runConsumersWhenReady, startHttp } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';
import { consumeStreams } from './consumers.js';
import { registerDeadLetterRoutes } from './dead-letters.js';
import { factMetrics } from './facts.js';
import { githubBudgetMetrics } from './github-budget.js';
import { levelMetrics } from './levels.js';

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
const base = await bootService({ service: 'metrics', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets, lifecycle } = base;
try {
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
  runConsumersWhenReady(base, await consumeStreams(nc, { facts, levels, log }));

  const http = await createHttpServer({ service: 'metrics', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerDeadLetterRoutes(http, nc);
  await startHttp(base, http, config.http);
  readiness.markStarted();
} catch (err) {
  await base.failStartup(err);
}
