import { contractsCodec, streamDefinitions, type SubjectMessages } from '@runnerhub/contracts';
import { bootService, connectNatsFor, connectPostgresFor, connectRedisFor, createHttpServer, createPublisher, parseAdminTokens, startHttp } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';
import { deliveriesStore } from './deliveries.js';
import { registerDeliveryRoutes } from './http.js';
import { registerWebhookIntake } from './intake.js';
import { intakeMetrics } from './metrics.js';

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
const base = await bootService({ service: 'webhook-gateway', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets } = base;
try {
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  const db = await connectPostgresFor(base, config.postgres, { name: 'gateway', migrations: new URL('../migrations/', import.meta.url) });
  await connectRedisFor(base, config.redis, 'webhook-gateway');
  const deliveries = deliveriesStore(db.pool);
  const webhookSecrets = (): readonly [string, ...string[]] => {
    const previous = secrets.find('GITHUB_WEBHOOK_SECRET_PREVIOUS');
    return previous ? [secrets.get('GITHUB_WEBHOOK_SECRET'), previous] : [secrets.get('GITHUB_WEBHOOK_SECRET')];
  };

  const http = await createHttpServer({ service: 'webhook-gateway', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerWebhookIntake(http, {
    publisher: createPublisher<SubjectMessages>(nc, contractsCodec),
    deliveries,
    secrets: webhookSecrets,
    metrics: intakeMetrics(telemetry.meter),
    log,
    bodyLimitBytes: config.webhook.bodyLimitBytes,
  });
  registerDeliveryRoutes(http, deliveries);
  await startHttp(base, http, config.http);
  readiness.markStarted();
} catch (err) {
  await base.failStartup(err);
}
