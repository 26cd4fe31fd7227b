import { streamDefinitions } from '@runnerhub/contracts';
import { GitHubClient } from '@runnerhub/github';
import {
  defineService,
  connectNatsFor,
  connectPostgresFor,
  connectRedisFor,
  createHttpServer,
  parseAdminTokens,
  runConsumersWhenReady,
  startHttp,
  startRetention,
} from '@runnerhub/platform';
import type { Static } from '@sinclair/typebox';
import type { configSchema } from './config.js';
import { consumeFacts, createFactHandlers } from './consumers.js';
import { registerReportRoutes } from './http.js';
import { reporterMetrics } from './metrics.js';
import { watchPoolOptions } from './pools.js';
import { startSender, type Sender } from './sender.js';
import { createStore } from './store.js';
import { statusReporterRetention } from './retention.js';

export type StatusReporterConfig = Readonly<Static<typeof configSchema>>;

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the consumers, the
// sender, and the connections.
export const start = defineService<StatusReporterConfig>('status-reporter', async (base) => {
  const { config, log, readiness, telemetry, secrets, lifecycle } = base;
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  const db = await connectPostgresFor(base, config.postgres, { name: 'status_reporter', migrations: new URL('../migrations/', import.meta.url) });
  const retention = startRetention({ db: db.pool, rules: statusReporterRetention(config.retention.days), meter: telemetry.meter, log });
  lifecycle.onStop('retention', () => retention.stop());
  const redis = await connectRedisFor(base, config.redis, 'status-reporter');
  const store = createStore(db.pool);
  const metrics = reporterMetrics(telemetry.meter);
  const pools = await watchPoolOptions(nc, log);
  lifecycle.onStop('pool-watch', () => pools.stop());

  const r = config.reporting;
  let sender: Sender | undefined;
  const privateKey = secrets.find('GITHUB_APP_PRIVATE_KEY');
  if (config.github.appId === 0 || !privateKey) {
    log.warn('no GitHub App configured (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY): reports are recorded but not sent');
  } else {
    const sendTimeoutMs = r.sendTimeoutSeconds * 1000;
    const client = (attempts?: number) =>
      new GitHubClient({
        baseUrl: config.github.apiUrl,
        appId: config.github.appId,
        clientId: config.github.clientId,
        privateKey,
        redis: redis.client,
        jitPerMinute: config.github.jitPerMinute,
        timeoutMs: Math.min(15_000, sendTimeoutMs),
        retry: { totalMs: sendTimeoutMs, maxWaitMs: Math.min(10_000, sendTimeoutMs / 2), ...(attempts ? { attempts } : {}) },
        log,
      });
    sender = startSender({
      store,
      gh: client(),
      ghCreate: client(1),
      metrics,
      log,
      maxAttempts: r.maxAttempts,
      maxRateWaitMs: r.maxRateWaitSeconds * 1000,
      // Each report takes up to three calls (find, create or update); the claim outlasts them.
      claimMs: 3 * sendTimeoutMs + 5_000,
    });
    const s = sender;
    lifecycle.onStop('send-reports', () => s.stop());
  }
  const wake = () => sender?.wake();

  const handlers = createFactHandlers({
    store,
    pools,
    switches: { checkRuns: r.checkRuns, jobReports: r.jobReports, disabledInstallations: r.disabledInstallations },
    failedMaxJobs: r.failedMaxJobs,
    metrics,
    log,
    wake,
  });
  runConsumersWhenReady(base, await consumeFacts(nc, handlers, log));

  const http = await createHttpServer({ service: 'status-reporter', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerReportRoutes(http, { store, wake });
  await startHttp(base, http, config.http);
  readiness.markStarted();
});
