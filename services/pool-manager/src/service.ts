import { contractsCodec, streamDefinitions, type SubjectMessages } from '@runnerhub/contracts';
import { GitHubClient } from '@runnerhub/github';
import {
  defineService,
  connectNatsFor,
  connectPostgresFor,
  connectRedisFor,
  createHttpServer,
  createPublisher,
  parseAdminTokens,
  runConsumersWhenReady,
  startHttp,
  startRetention,
} from '@runnerhub/platform';
import type { Static } from '@sinclair/typebox';
import type { configSchema } from './config.js';
import { openDrainedHosts } from './drained-hosts.js';
import { consumeFacts } from './facts.js';
import { registerPoolRoutes } from './http.js';
import { watchLevels } from './inputs.js';
import { openPoolCatalog } from './pool-catalog.js';
import { runnersStore } from './runners-store.js';
import { startOrphanReapers, startReconcileLoop } from './reconcile-loop.js';
import { startSnapshots } from './snapshot.js';
import { createSupply } from './supply.js';
import { poolManagerRetention } from './retention.js';

export type PoolManagerConfig = Readonly<Static<typeof configSchema>>;

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
export const start = defineService<PoolManagerConfig>('pool-manager', async (base) => {
  const { config, log, readiness, telemetry, secrets, lifecycle } = base;
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  const db = await connectPostgresFor(base, config.postgres, { name: 'pool_manager', migrations: new URL('../migrations/', import.meta.url) });
  const retention = startRetention({ db: db.pool, rules: poolManagerRetention(config.retention.days), meter: telemetry.meter, log });
  lifecycle.onStop('retention', () => retention.stop());
  const redis = await connectRedisFor(base, config.redis, 'pool-manager');
  const catalog = await openPoolCatalog({ db: db.pool, nc, file: config.pools.file, log });
  const drainedHosts = await openDrainedHosts(db.pool);
  const runners = runnersStore(db.pool);
  const privateKey = secrets.find('GITHUB_APP_PRIVATE_KEY');
  if (config.github.appId === 0 || !privateKey) {
    if (catalog.pools().length > 0) throw new Error('pools are declared but no GitHub App is configured: set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY');
    log.info('no GitHub App configured and no pools: nothing to supply');
  }
  const gh = new GitHubClient({ baseUrl: config.github.apiUrl, appId: config.github.appId, clientId: config.github.clientId, privateKey: privateKey ?? '', redis: redis.client, jitPerMinute: config.github.jitPerMinute, log });
  const levels = watchLevels(nc, log, () => reconcile.wake());
  lifecycle.onStop('levels', () => levels.stop());
  const publisher = createPublisher<SubjectMessages>(nc, contractsCodec);
  const supply = createSupply({ gh, runners, levels, publisher, pools: catalog.supplyPools, drainedHosts: drainedHosts.current, warmNow: catalog.warmNow, log });

  const reconcile = startReconcileLoop({ nc, catalog, supply, levels, runners, intervalMs: config.pools.reconcileSeconds * 1000, log });
  lifecycle.onStop('reconcile', async () => {
    await reconcile.stop();
    await supply.settle();
  });
  runConsumersWhenReady(base, await consumeFacts(nc, { runners, log, onChange: reconcile.wake }));

  // SIGHUP reloads POOLS_FILE, as the admin API's POST /api/pools/reload does.
  const reload = (): void => {
    catalog
      .reloadFile()
      .then(reconcile.wake)
      .catch((err: unknown) => log.error({ err: (err as Error).message }, 'POOLS_FILE not reloaded; the pools stay as they were'));
  };
  process.on('SIGHUP', reload);
  lifecycle.onStop('reload', () => void process.off('SIGHUP', reload));

  const snapshots = startSnapshots({ publisher, pools: catalog.supplyPools, drainedHosts: drainedHosts.current, warmNow: catalog.warmNow, runners, supply, levels, seconds: 5, log });
  lifecycle.onStop('snapshots', () => snapshots.stop());

  // Orphans: GitHub registrations and containers that no live runner owns (after a crash, say).
  const orphanDeps = { gh, runners, levels, publisher, pools: catalog.supplyPools, scopeOf: supply.scopeOf, log };
  const reapers = startOrphanReapers(nc, orphanDeps, config.pools.reaperSeconds * 1000);
  lifecycle.onStop('reapers', () => reapers.stop());

  const http = await createHttpServer({ service: 'pool-manager', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerPoolRoutes(http, { catalog, drainedHosts, runners, supply, levels, wake: reconcile.wake });
  await startHttp(base, http, config.http);
  readiness.markStarted();
});
