import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { contractsCodec, leaseBuckets, streamDefinitions, type SubjectMessages } from '@runnerhub/contracts';
import { GitHubClient } from '@runnerhub/github';
import {
  defineService,
  connectNatsFor,
  connectPostgresFor,
  connectRedisFor,
  createHttpServer,
  createLease,
  createPublisher,
  parseAdminTokens,
  runConsumersWhenReady,
  runPeriodicallyWhileLeader,
  startHttp,
  startRetention,
} from '@runnerhub/platform';
import type { Static } from '@sinclair/typebox';
import type { configSchema } from './config.js';
import { consumeWorkflowJobs } from './consumers.js';
import { startDemandPublisher } from './demand.js';
import { registerJobRoutes } from './http.js';
import { jobsQueries } from './jobs.js';
import { createOriginLookup } from './origin.js';
import { startOutboxRelay } from './outbox.js';
import { watchPoolStatuses } from './pool-status.js';
import { watchPools } from './pools.js';
import { reconcileMissedJobs, type ReconcileSummary } from './reconciler.js';
import { rematchWaitingJobs } from './rematch.js';
import { NO_RULES, parseRules } from './rules.js';
import { startStuckJobCheck } from './stuck.js';
import { schedulerRetention } from './retention.js';

export type SchedulerConfig = Readonly<Static<typeof configSchema>>;

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
export const start = defineService<SchedulerConfig>('scheduler', async (base) => {
  const { config, log, readiness, telemetry, secrets, lifecycle } = base;
  const rulesFile = config.scheduling.rulesFile;
  let rules = NO_RULES;
  try {
    if (rulesFile) rules = parseRules(readFileSync(rulesFile, 'utf8'));
  } catch (error) {
    throw new Error(`SCHEDULER_RULES_FILE ${rulesFile ?? ''}: ${(error as Error).message}`);
  }
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  const db = await connectPostgresFor(base, config.postgres, { name: 'scheduler', migrations: new URL('../migrations/', import.meta.url) });
  const retention = startRetention({ db: db.pool, rules: schedulerRetention(config.retention.days), meter: telemetry.meter, log });
  lifecycle.onStop('retention', () => retention.stop());
  const redis = await connectRedisFor(base, config.redis, 'scheduler');
  const pools = await watchPools(nc, log);
  lifecycle.onStop('pool-watch', () => pools.stop());
  const statuses = watchPoolStatuses(nc, log);
  lifecycle.onStop('pool-statuses', () => statuses.stop());
  const publisher = createPublisher<SubjectMessages>(nc, contractsCodec);
  const relay = startOutboxRelay(db.pool, publisher, log);
  lifecycle.onStop('outbox-relay', () => relay.stop());
  const demand = startDemandPublisher({ db: db.pool, publisher, pools, caps: rules.caps, log });
  lifecycle.onStop('demand', () => demand.stop());

  const privateKey = secrets.find('GITHUB_APP_PRIVATE_KEY');
  const gh =
    config.github.appId > 0 && privateKey
      ? new GitHubClient({ baseUrl: config.github.apiUrl, appId: config.github.appId, clientId: config.github.clientId, privateKey, redis: redis.client, jitPerMinute: config.github.jitPerMinute, log })
      : undefined;
  const origins = createOriginLookup({ gh, log });
  runConsumersWhenReady(base, [await consumeWorkflowJobs(nc, { db: db.pool, pools, rules, origins, relay, demand, log })]);

  // A pool added, changed or deleted: waiting jobs without a live pool are matched again.
  pools.onChange(() => void rematchWaitingJobs({ db: db.pool, pools, relay, demand, log }).catch((err: unknown) => log.warn({ err }, 'matching waiting jobs again failed; the next pool change retries')));
  const diagnoseDeps = { db: db.pool, pools, statuses, rules, gh };

  const stuckJobs = startStuckJobCheck({ ...diagnoseDeps, relay, log }, config.scheduling.stuckCheckSeconds * 1000);
  lifecycle.onStop('stuck-jobs', () => stuckJobs.stop());

  // The missed-job reconciler: one cycle at a time in this process, whether the timer or the admin API started it.
  let cycle: Promise<ReconcileSummary> | undefined;
  const runCycle = (signal?: AbortSignal): Promise<ReconcileSummary> => {
    if (!gh) return Promise.reject(new Error('no GitHub App configured'));
    cycle ??= reconcileMissedJobs({ db: db.pool, gh, pools, rules, origins, relay, demand, log, maxChecksPerCycle: config.scheduling.reconcileMaxChecks }, signal)
      .then((summary) => {
        log.info({ ...summary }, 'missed-job reconciler cycle done');
        return summary;
      })
      .finally(() => (cycle = undefined));
    return cycle;
  };
  if (gh) {
    // A leader killed without releasing it holds the lease at most 30 s; renewed every 10 s.
    const lease = createLease({ nc, ...leaseBuckets.ttl30s, key: 'scheduler-reconciler', holderId: `${hostname()}:${process.pid}`, log });
    const leader = runPeriodicallyWhileLeader(lease, config.scheduling.reconcileSeconds * 1000, runCycle, { log, what: 'missed-job reconciler cycle' });
    lifecycle.onStop('missed-job-reconciler', () => leader.stop());
  } else {
    log.info('no GitHub App configured (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY): the missed-job reconciler is off');
  }

  const http = await createHttpServer({ service: 'scheduler', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerJobRoutes(http, { jobs: jobsQueries(db.pool), diagnose: diagnoseDeps, caps: rules.caps, reconcileNow: gh ? () => runCycle() : undefined });
  await startHttp(base, http, config.http);
  readiness.markStarted();
});
