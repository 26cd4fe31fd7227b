import { hostname } from 'node:os';
import { contractsCodec, POOL_DEFINITIONS_BUCKET, poolDefinitionKvSubject, streamDefinitions, type PoolDefinition, type SubjectMessages } from '@runnerhub/contracts';
import { GitHubClient, webhookSourceRanges } from '@runnerhub/github';
import {
  defineService,
  connectNatsFor,
  connectPostgresFor,
  connectRedisFor,
  createHttpServer,
  createLease,
  parseAdminTokens,
  runPeriodicallyWhileLeader,
  startHttp,
  startRetention,
  watchKvView,
} from '@runnerhub/platform';
import type { Static } from '@sinclair/typebox';
import type { configSchema } from './config.js';
import { deliveriesStore } from './deliveries.js';
import { createDeliveryLog } from './delivery-log.js';
import { createPipelinedPublisher } from './pipelined-publisher.js';
import { createRecentDeliveries } from './recent-deliveries.js';
import { registerDeliveryRoutes } from './http.js';
import { registerWebhookIntake } from './intake.js';
import { intakeMetrics, redeliveryMetrics } from './metrics.js';
import { reconcileOnce, type ReconcileSummary } from './redelivery.js';
import { registerRedeliveryRoutes } from './redelivery-routes.js';
import { createSourceAllowlist } from './source-allowlist.js';
import { gatewayRetention } from './retention.js';
import { createScaleSetIntake, servesScaleSet, type ScaleSetIntake } from './scale-set-listener.js';
import { registerScaleSetRoutes } from './scale-set-routes.js';

/** GitHub redelivers for 3 days; a NAS sees far fewer than this many deliveries in that time. */
const REDELIVERY_WINDOW_MS = 3 * 24 * 3600 * 1000;
const RECENT_DELIVERIES = 200_000;

export type WebhookGatewayConfig = Readonly<Static<typeof configSchema>>;

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
export const start = defineService<WebhookGatewayConfig>('webhook-gateway', async (base) => {
  const { config, log, readiness, telemetry, secrets, lifecycle } = base;
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  // The publisher refuses (413) any message above the server's max_payload, read from its INFO on
  // each connection; say so at start when bodies the gateway takes cannot fit.
  const maxPayload = nc.info?.max_payload;
  if (maxPayload !== undefined && config.webhook.bodyLimitBytes >= maxPayload) {
    log.warn(
      { bodyLimitBytes: config.webhook.bodyLimitBytes, natsMaxPayload: maxPayload },
      "WEBHOOK_BODY_LIMIT_BYTES is not below the NATS server's max_payload: deliveries whose message (body and typed fields) exceeds it are answered 413; raise max_payload in the NATS configuration",
    );
  }
  const db = await connectPostgresFor(base, config.postgres, { name: 'gateway', migrations: new URL('../migrations/', import.meta.url) });
  const retention = startRetention({ db: db.pool, rules: gatewayRetention(config.retention.days), meter: telemetry.meter, log });
  lifecycle.onStop('retention', () => retention.stop());
  const redis = await connectRedisFor(base, config.redis, 'webhook-gateway');
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

  // The redelivery reconciler needs the GitHub App; without one (demo without the simulator) it is off.
  const privateKey = secrets.find('GITHUB_APP_PRIVATE_KEY');
  const gh =
    config.github.appId > 0 && privateKey
      ? new GitHubClient({ baseUrl: config.github.apiUrl, appId: config.github.appId, clientId: config.github.clientId, privateKey, redis: redis.client, jitPerMinute: config.github.jitPerMinute, log })
      : undefined;
  const redeliveryDeps = gh && { gh, db: db.pool, recent, maxPerCycle: config.redelivery.maxPerCycle, log, metrics: redeliveryMetrics(telemetry.meter) };
  // One cycle at a time in this process, whether the timer or the admin API started it.
  let cycle: Promise<ReconcileSummary> | undefined;
  const runCycle = (signal?: AbortSignal): Promise<ReconcileSummary> => {
    if (!redeliveryDeps) return Promise.reject(new Error('no GitHub App configured'));
    cycle ??= reconcileOnce(redeliveryDeps, signal).finally(() => (cycle = undefined));
    return cycle;
  };
  if (redeliveryDeps) {
    // A leader killed without releasing it holds the lease at most 30 s; renewed every 10 s.
    const lease = createLease({ nc, bucket: 'rh-leases-30s', key: 'gateway-redelivery', ttlMs: 30_000, holderId: `${hostname()}:${process.pid}`, log });
    const leader = runPeriodicallyWhileLeader(lease, config.redelivery.intervalSeconds * 1000, runCycle, { log, what: 'redelivery reconciler cycle' });
    lifecycle.onStop('redelivery-reconciler', () => leader.stop());
  } else {
    log.info('no GitHub App configured (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY): the redelivery reconciler is off');
  }

  // GitHub changes its hooks ranges from time to time: refresh hourly, keep the last good list.
  const sourceAllowlist = config.source.allowlist === 'github' ? createSourceAllowlist(config.source.trustedProxies) : undefined;
  if (sourceAllowlist) {
    const refresh = () =>
      webhookSourceRanges(config.github.apiUrl)
        .then((ranges) => sourceAllowlist.setRanges(ranges))
        .catch((err: unknown) => log.warn({ err }, sourceAllowlist.ready() ? 'GitHub /meta failed; keeping the last hooks ranges' : 'GitHub /meta failed; webhooks are refused until it answers'));
    await refresh();
    const timer = setInterval(() => void refresh(), 3_600_000);
    lifecycle.onStop('meta-refresh', () => clearInterval(timer));
  }

  // Many publishes in flight on one reply subscription; stopped after HTTP (start order is reversed).
  const publisher = createPipelinedPublisher<SubjectMessages>(nc, contractsCodec, { log });
  lifecycle.onStop('publisher', () => publisher.close());
  const http = await createHttpServer({ service: 'webhook-gateway', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerWebhookIntake(http, {
    publisher,
    recent,
    deliveryLog,
    secrets: webhookSecrets,
    metrics: intakeMetrics(telemetry.meter),
    log,
    bodyLimitBytes: config.webhook.bodyLimitBytes,
    sourceAllowlist,
  });
  // The scale-set intake (pools with intake scaleset or both): outbound long polls only, no port.
  // Stopped before the publisher (start order is reversed), so in-flight facts still get PubAcks.
  const pools = await watchKvView(nc, POOL_DEFINITIONS_BUCKET, (key, value) => contractsCodec.decode(poolDefinitionKvSubject(key), value) as PoolDefinition, log);
  lifecycle.onStop('pool-definitions', () => pools.stop());
  let scaleSets: ScaleSetIntake | undefined;
  if (gh) {
    const intake = createScaleSetIntake({
      gh,
      nc,
      publisher,
      meter: telemetry.meter,
      log,
      holderId: `${hostname()}:${process.pid}`,
      retryMaxMs: config.scaleSets.retryMaxSeconds * 1000,
      pollTimeoutMs: config.scaleSets.pollTimeoutSeconds * 1000,
    });
    scaleSets = intake;
    lifecycle.onStop('scale-set-listeners', () => intake.stop());
  } else {
    pools.onChange(() => {
      const names = pools.values().filter(servesScaleSet).map((p) => p.name);
      if (names.length > 0) log.error({ pools: names }, 'pools with intake scaleset or both need the GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY): no listener runs for them');
    });
  }

  registerDeliveryRoutes(http, deliveries);
  registerRedeliveryRoutes(http, { gh, runNow: () => runCycle() });
  registerScaleSetRoutes(http, scaleSets);
  await startHttp(base, http, config.http);
  readiness.markStarted();
  // Take work only once ready: listeners start with the pools known now and follow every change.
  if (scaleSets) {
    const intake = scaleSets;
    intake.sync(pools.values());
    pools.onChange(() => intake.sync(pools.values()));
  }
});
