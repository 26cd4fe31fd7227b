import type { NatsConnection } from '@nats-io/transport-node';
import { leaseBuckets } from '@runnerhub/contracts';
import { startLoop, type Logger, type Loop } from '@runnerhub/platform';
import type { Levels } from './inputs.js';
import { reapGitHubOrphans, startDockerOrphanReaper, type OrphanDeps } from './orphans.js';
import type { PoolCatalog } from './pool-catalog.js';
import type { RunnersStore } from './runners-store.js';
import { live } from './sizing.js';
import type { Supply } from './supply.js';

/**
 * The reconcile pass: hosts followed, every pool sized and supplied, deleted pools purged once
 * empty. It runs every interval and on a wake (a demand level, a runner fact, an admin change).
 * Under a lease: two replicas would both see a pool short and both create runners for it. A killed
 * leader's key lives for the 10 s TTL (the 30 s bucket would hold the pools still for that long).
 */
export function startReconcileLoop(deps: { nc: NatsConnection; catalog: PoolCatalog; supply: Supply; levels: Levels; runners: RunnersStore; intervalMs: number; log: Logger }): Loop {
  return startLoop({
    name: 'pool-manager.reconcile',
    intervalMs: deps.intervalMs,
    // Not at start: the first pass waits for a demand level or the interval, as it always has.
    runAtStart: false,
    log: deps.log,
    failureMessage: 'reconcile pass failed',
    lease: { nc: deps.nc, ...leaseBuckets.ttl10s, key: 'pool-manager-reconcile' },
    run: async () => {
      await deps.catalog.followHosts(deps.levels.hosts());
      await deps.supply.reconcile();
      await deps.catalog.purgeDeleted(async (pool) => live(await deps.runners.counts(pool)));
    },
  });
}

/** The orphan reapers (GitHub registrations and Docker containers that no live runner owns), every interval. */
export function startOrphanReapers(nc: NatsConnection, deps: OrphanDeps, intervalMs: number): Loop {
  const dockerOrphans = startDockerOrphanReaper(nc, deps);
  const loop = startLoop({
    name: 'pool-manager.orphan-reapers',
    intervalMs,
    runAtStart: false,
    log: deps.log,
    failureMessage: 'orphan reapers failed; next period retries',
    run: async () => {
      if (deps.pools().length === 0) return;
      await reapGitHubOrphans(deps);
      await dockerOrphans.sweep();
    },
  });
  return {
    name: loop.name,
    wake: loop.wake,
    runNow: loop.runNow,
    async stop() {
      await loop.stop();
      dockerOrphans.stop();
    },
  };
}
