import type { Meter, ObservableResult } from '@opentelemetry/api';
import type { DemandSnapshot, ExecutorHeartbeat, HostStatus, PoolSnapshot, PoolStatus, Timestamp } from '@runnerhub/contracts';
import { LIVE_RUNNER_STATES, PRIORITIES, runnerState, timestampSeconds, workerState } from './labels.js';

/**
 * Gauges read from the latest snapshot facts: pool.demand (scheduler: pending and running jobs per
 * pool) and pool.snapshot (pool-manager: runners by state, desired, host budgets), plus executor
 * heartbeats. They hold no history of their own, so a restarted metrics service is right again as
 * soon as the next snapshot arrives (every few seconds). Snapshots consumed out of order (after a
 * backlog, several at once) never replace a newer one.
 */
export function levelMetrics(meter: Meter, hooks: { onPool(pool: string): void }) {
  let demand: DemandSnapshot | undefined;
  let supply: PoolSnapshot | undefined;
  const demandPools = new Set<string>();
  const heartbeats = new Map<string, number>();
  const now = () => Date.now() / 1000;

  const gauge = (name: string, description: string, unit: string | undefined, read: (r: ObservableResult) => void) =>
    meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) }).addCallback(read);
  const eachPool = (r: ObservableResult, value: (p: PoolStatus) => number) => {
    for (const p of supply?.pools ?? []) r.observe(value(p), { pool: p.pool });
  };
  const eachHost = (r: ObservableResult, value: (h: HostStatus) => number) => {
    for (const h of supply?.hosts ?? []) r.observe(value(h), { host: h.host });
  };
  /** Every pool either snapshot named: a pool absent from the demand snapshot has no demand (0). */
  const poolNames = () => new Set([...demandPools, ...(supply?.pools ?? []).map((p) => p.pool)]);
  const demandOf = (pool: string) => demand?.pools.find((d) => d.pool === pool);

  gauge('runnerhub_pool_pending_jobs', 'Matched jobs waiting for a runner, per pool and priority class (pool.demand).', undefined, (r) => {
    for (const pool of poolNames()) {
      const pending = demandOf(pool)?.pending;
      for (const priority of PRIORITIES) r.observe(pending?.[priority] ?? 0, { pool, priority });
    }
  });
  gauge('runnerhub_pool_running_jobs', 'Jobs in progress, per pool (pool.demand).', undefined, (r) => {
    for (const pool of poolNames()) r.observe(demandOf(pool)?.running ?? 0, { pool });
  });
  gauge('runnerhub_pool_capped_jobs', 'Matched jobs held back by a repository or organization concurrency cap, per pool (pool.demand).', undefined, (r) => {
    for (const pool of poolNames()) r.observe(demandOf(pool)?.overCap ?? 0, { pool });
  });
  gauge('runnerhub_pool_oldest_pending_job_age_seconds', 'Age of the oldest pending job, per pool; 0 when nothing is pending (pool.demand).', 's', (r) => {
    const t = now();
    for (const pool of poolNames()) {
      const oldest = timestampSeconds(demandOf(pool)?.oldestPendingAt);
      r.observe(oldest === undefined ? 0 : Math.max(0, t - oldest), { pool });
    }
  });

  gauge('runnerhub_pool_runners', 'Runners per pool and state (pool.snapshot).', undefined, (r) => {
    for (const p of supply?.pools ?? []) {
      for (const state of LIVE_RUNNER_STATES) r.observe(p.runners.find((c) => runnerState(c.state) === state)?.count ?? 0, { pool: p.pool, state });
    }
  });
  gauge('runnerhub_pool_desired_runners', 'Runners the pool-manager wants per pool: pending + running + warm minimum, capped (pool.snapshot).', undefined, (r) =>
    eachPool(r, (p) => p.desired),
  );
  gauge('runnerhub_pool_min_idle_runners', 'Warm minimum per pool now (pool.snapshot).', undefined, (r) => eachPool(r, (p) => p.minIdle));
  gauge('runnerhub_pool_max_runners', 'Maximum runners per pool (pool.snapshot).', undefined, (r) => eachPool(r, (p) => p.maxRunners));
  gauge('runnerhub_pool_drained', '1 while the pool is drained (pool.snapshot).', undefined, (r) => eachPool(r, (p) => (p.drained ? 1 : 0)));
  gauge('runnerhub_pool_backing_off', '1 while runner creation backs off after failures (pool.snapshot).', undefined, (r) =>
    eachPool(r, (p) => ((timestampSeconds(p.backoffUntil) ?? 0) > now() ? 1 : 0)),
  );

  gauge('runnerhub_host_cpu_capacity_cores', 'CPUs of the Docker host (pool.snapshot).', undefined, (r) => eachHost(r, (h) => h.cpus));
  gauge('runnerhub_host_cpu_reserved_cores', 'CPUs kept free for the host itself.', undefined, (r) => eachHost(r, (h) => h.reservedCpus));
  gauge('runnerhub_host_cpu_used_cores', 'CPU limits of the running runner containers.', undefined, (r) => eachHost(r, (h) => h.usedCpus));
  gauge('runnerhub_host_cpu_free_cores', 'CPUs left for new runners: capacity - reserved - used.', undefined, (r) =>
    eachHost(r, (h) => Math.max(0, h.cpus - h.reservedCpus - h.usedCpus)),
  );
  gauge('runnerhub_host_memory_capacity_bytes', 'Memory of the Docker host.', 'By', (r) => eachHost(r, (h) => Number(h.memoryBytes)));
  gauge('runnerhub_host_memory_reserved_bytes', 'Memory kept free for the host itself.', 'By', (r) => eachHost(r, (h) => Number(h.reservedMemoryBytes)));
  gauge('runnerhub_host_memory_used_bytes', 'Memory limits of the running runner containers.', 'By', (r) => eachHost(r, (h) => Number(h.usedMemoryBytes)));
  gauge('runnerhub_host_memory_free_bytes', 'Memory left for new runners: capacity - reserved - used.', 'By', (r) =>
    eachHost(r, (h) => Math.max(0, Number(h.memoryBytes) - Number(h.reservedMemoryBytes) - Number(h.usedMemoryBytes))),
  );
  gauge('runnerhub_host_containers', 'Runner containers running on the host.', undefined, (r) => eachHost(r, (h) => h.runningContainers));
  gauge('runnerhub_host_max_containers', 'Most runner containers the host takes.', undefined, (r) => eachHost(r, (h) => h.maxContainers));
  gauge('runnerhub_host_healthy', '1 while the host sends heartbeats.', undefined, (r) => eachHost(r, (h) => (h.healthy ? 1 : 0)));
  gauge('runnerhub_host_draining', '1 while the host is drained.', undefined, (r) => eachHost(r, (h) => (h.draining ? 1 : 0)));
  gauge('runnerhub_host_last_heartbeat_timestamp_seconds', "Time of the host's last executor heartbeat (executor.heartbeat.<host>).", 's', (r) => {
    for (const [host, at] of heartbeats) r.observe(at, { host });
  });
  gauge('runnerhub_snapshot_timestamp_seconds', 'Time the latest snapshot was taken, by source: demand (scheduler) or supply (pool-manager).', 's', (r) => {
    const d = timestampSeconds(demand?.takenAt);
    const s = timestampSeconds(supply?.takenAt);
    if (d !== undefined) r.observe(d, { source: 'demand' });
    if (s !== undefined) r.observe(s, { source: 'supply' });
  });

  // OpenTelemetry CI/CD conventions: workers by state, and jobs by state.
  meter
    .createObservableUpDownCounter('cicd.worker.count', { description: 'Runners by worker state: available (idle), busy, offline (still starting).', unit: '{worker}' })
    .addCallback((r) => {
      for (const p of supply?.pools ?? []) {
        const counts = { available: 0, busy: 0, offline: 0 };
        for (const state of LIVE_RUNNER_STATES) counts[workerState(state)] += p.runners.find((c) => runnerState(c.state) === state)?.count ?? 0;
        for (const [state, count] of Object.entries(counts)) r.observe(count, { 'cicd.worker.state': state, 'runnerhub.pool': p.pool });
      }
    });
  meter
    .createObservableUpDownCounter('cicd.pipeline.run.active', { description: 'Jobs pending (queued for a runner) or executing, per pool.', unit: '{run}' })
    .addCallback((r) => {
      for (const pool of poolNames()) {
        const d = demandOf(pool);
        const pending = d?.pending ? d.pending.critical + d.pending.high + d.pending.normal + d.pending.low + d.overCap : 0;
        r.observe(pending, { 'cicd.pipeline.run.state': 'pending', 'runnerhub.pool': pool });
        r.observe(d?.running ?? 0, { 'cicd.pipeline.run.state': 'executing', 'runnerhub.pool': pool });
      }
    });

  const newer = (next: { takenAt?: Timestamp }, current: { takenAt?: Timestamp } | undefined) =>
    !current || (timestampSeconds(next.takenAt) ?? 0) >= (timestampSeconds(current.takenAt) ?? 0);

  return {
    demand(s: DemandSnapshot) {
      if (!newer(s, demand)) return;
      demand = s;
      for (const p of s.pools) {
        demandPools.add(p.pool);
        hooks.onPool(p.pool);
      }
    },
    supply(s: PoolSnapshot) {
      if (!newer(s, supply)) return;
      supply = s;
      for (const p of s.pools) hooks.onPool(p.pool);
    },
    heartbeat(h: ExecutorHeartbeat) {
      const at = timestampSeconds(h.sentAt);
      if (h.host && at !== undefined && at >= (heartbeats.get(h.host) ?? 0)) heartbeats.set(h.host, at);
    },
  };
}

export type LevelMetrics = ReturnType<typeof levelMetrics>;
