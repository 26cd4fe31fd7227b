import { create, PoolSnapshotSchema, RunnerState, timestampFromMs, timestampNow, type PoolDefinition, type SubjectMessages } from '@runnerhub/contracts';
import { startLoop, type Logger, type Publisher } from '@runnerhub/platform';
import type { Levels } from './inputs.js';
import { noRunners, type RunnersStore } from './runners-store.js';
import { sizePool } from './sizing.js';
import type { Supply } from './supply.js';
import { warmMinimum } from './warm-schedule.js';

/** `pool.snapshot` every few seconds: runners by state, desired, demand and host budgets, for metrics. */

const STATES: [keyof Awaited<ReturnType<RunnersStore['counts']>>, RunnerState][] = [
  ['requested', RunnerState.REQUESTED],
  ['registered', RunnerState.REGISTERED],
  ['starting', RunnerState.STARTING],
  ['idle', RunnerState.IDLE],
  ['busy', RunnerState.BUSY],
];

export function startSnapshots(deps: {
  publisher: Publisher<SubjectMessages>;
  pools(): PoolDefinition[];
  drainedHosts(): ReadonlySet<string>;
  warmNow?(pool: PoolDefinition, now: Date): number;
  runners: RunnersStore; supply: Supply; levels: Levels; seconds: number; log: Logger }): { stop(): Promise<void> } {
  const publish = async (): Promise<void> => {
    const live = await deps.runners.countsByPool();
    const pools = deps.pools().map((pool) => {
      const counts = live.get(pool.name) ?? noRunners();
      const state = deps.supply.state(pool.name);
      const pending = deps.levels.pending(pool.name);
      const minIdle = (deps.warmNow ?? warmMinimum)(pool, new Date());
      return {
        pool: pool.name,
        desired: sizePool({ counts, pending, running: deps.levels.running(pool.name), minIdle, maxRunners: pool.maxRunners, drained: pool.drained, backingOff: false }).desired,
        runners: STATES.filter(([key]) => counts[key] > 0).map(([key, runnerState]) => ({ state: runnerState, count: counts[key] })),
        pendingDemand: pending,
        minIdle,
        maxRunners: pool.maxRunners,
        drained: pool.drained,
        lastError: state.lastError,
        backoffUntil: state.backoffUntil > Date.now() ? timestampFromMs(state.backoffUntil) : undefined,
        hostRefusals: state.refusals.map((r) => ({ host: r.host, reason: r.reason, needed: r.needed, has: r.has })),
      };
    });
    const hosts = deps.levels.hosts().map((h) => ({
      host: h.host,
      cpus: h.cpus,
      reservedCpus: h.reservedCpus,
      usedCpus: h.usedCpus,
      memoryBytes: BigInt(h.memoryBytes),
      reservedMemoryBytes: BigInt(h.reservedMemoryBytes),
      usedMemoryBytes: BigInt(h.usedMemoryBytes),
      runningContainers: h.running,
      maxContainers: h.maxContainers,
      draining: h.draining || deps.drainedHosts().has(h.host),
      healthy: h.healthy,
    }));
    await deps.publisher.publish('pool.snapshot', create(PoolSnapshotSchema, { takenAt: timestampNow(), pools, hosts }), { msgId: `pool-snapshot:${Date.now()}` });
  };
  return startLoop({
    name: 'pool-manager.snapshot',
    intervalMs: deps.seconds * 1000,
    runAtStart: false,
    run: publish,
    log: deps.log,
    failureMessage: 'pool snapshot not published; the next period tries again',
  });
}
