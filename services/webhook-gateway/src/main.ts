import { contractsCodec, streamDefinitions, type SubjectMessages } from '@runnerhub/contracts';
import { bootService, connectNatsFor, connectPostgresFor, connectRedisFor, createHttpServer, createPublisher, parseAdminTokens, startHttp } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';
import { deliveriesStore } from './deliveries.js';
import { createDeliveryLog } from './delivery-log.js';
import { createRecentDeliveries } from './recent-deliveries.js';
import { registerDeliveryRoutes } from './http.js';
import { registerWebhookIntake } from './intake.js';
import { intakeMetrics } from './metrics.js';

/** GitHub redelivers for 3 days; a NAS sees far fewer than this many deliveries in that time. */
const REDELIVERY_WINDOW_MS = 3 * 24 * 3600 * 1000;
const RECENT_DELIVERIES = 200_000;

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
const base = await bootService({ service: 'webhook-gateway', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets } = base;
try {
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  const db = await connectPostgresFor(base, config.postgres, { name: 'gateway', migrations: new URL('../migrations/', import.meta.url) });
  await connectRedisFor(base, config.redis, 'webhook-gateway');
  const deliveries = deliveriesStore(db.pool);
  // Replays come within GitHub's 3-day redelivery window; warm the dedup set with that much history.
  const recent = createRecentDeliveries(RECENT_DELIVERIES);
  for (const guid of (await deliveries.handledSince(new Date(Date.now() - REDELIVERY_WINDOW_MS), RECENT_DELIVERIES)).reverse()) recent.add(guid);
  const deliveryLog = createDeliveryLog(deliveries, log);
  base.lifecycle.onStop('delivery-log', () => deliveryLog.stop());
  const webhookSecrets = (): readonly [string, ...string[]] => {
    const previous = secrets.find('GITHUB_WEBHOOK_SECRET_PREVIOUS');
    return previous ? [secrets.get('GITHUB_WEBHOOK_SECRET'), previous] : [secrets.get('GITHUB_WEBHOOK_SECRET')];
  };

  const http = await createHttpServer({ service: 'webhook-gateway', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerWebhookIntake(http, {
    publisher: createPublisher<SubjectMessages>(nc, contractsCodec),
    recent,
    deliveryLog,
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
