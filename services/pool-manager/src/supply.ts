import { randomBytes } from 'node:crypto';
import {
  create,
  CreateRunnerCommandSchema,
  executorCommandSubject,
  PlacementPolicy,
  PoolScopeKind,
  RemovalReason,
  RemoveRunnerCommandSchema,
  RunnerFailureReason,
  RunnerRefSchema,
  timestampNow,
  type PoolDefinition,
  type RunnerRef,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { ConflictError, deleteRunner, type RunnerPlatform, generateJitConfig, orgInstallation, repoInstallation, RunnerBusyError, NotFoundError, resolveRunnerGroup, type GitHubClient, type RunnerScope } from '@runnerhub/github';
import type { Logger, Publisher } from '@runnerhub/platform';
import type { Levels } from './inputs.js';
import { placeRunner, platformOf, reserve, withOwnRunners, type OwnUsage, type Refusal, type RunnerNeeds } from './placement.js';
import { platformNeeds } from './pool-platform.js';
import { noRunners, type RecentFailures, type RunnersStore } from './runners-store.js';
import { runnerFacts } from './runner-facts.js';
import { scaleSetRunners, usesScaleSet } from './scale-set-runners.js';
import { live, sizePool, type PoolCounts } from './sizing.js';
import { warmMinimum } from './warm-schedule.js';

/**
 * The supply side, one level-triggered pass per pool: count the runners, size the pool from demand
 * and the warm minimum, place and create what is missing (a JIT registration, then a create command
 * for the chosen host), and retire what is no longer wanted or never came up. Woken by demand,
 * runner facts and a short timer; a restart loses nothing, because the next pass reads the table.
 */

export interface SupplyDeps {
  gh: GitHubClient;
  runners: RunnersStore;
  levels: Levels;
  publisher: Publisher<SubjectMessages>;
  /** Every pool with runners to look after, deleted ones as drained. */
  pools(): PoolDefinition[];
  /** Hosts an operator drained: no new runners there, waiting ones retired. */
  drainedHosts(): ReadonlySet<string>;
  /** The warm minimum a pool holds now (an operator's override included); default: minIdle or its warm schedule's. */
  warmNow?(pool: PoolDefinition, now: Date): number;
  log: Logger;
}

export interface RemovableRunner {
  id: string;
  name: string;
  host: string;
  installationId: string | null;
  githubRunnerId: string | null;
}

export interface PoolState {
  lastError: string;
  backoffUntil: number;
  /** Why each host was passed over, when the last placement found none (pool.snapshot, `why`). */
  refusals: Refusal[];
}

/** What blocks a pool after its pass: the last error in words and, when placement found no host, each host's refusal. */
interface Blocked {
  error: string;
  refusals: Refusal[];
}

/** Failures within this window count towards the backoff. */
const FAILURE_WINDOW_S = 300;
/**
 * The executor stops a container at its pool's maximum lifetime; this much later the pool-manager
 * removes whatever is still there (an executor that was down at the time, a lost stop).
 */
const LIFETIME_GRACE_S = 120;
/** Runners registered and requested at once (all pools); GitHub's JIT budget still paces them. */
const CREATE_CONCURRENCY = 4;

/** At most `size` of the started tasks run at once; the others wait their turn in order. */
function concurrencyLimit(size: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

export function createSupply(deps: SupplyDeps) {
  const facts = runnerFacts(deps.publisher, deps.log);
  const state = new Map<string, PoolState>();
  const installations = new Map<string, number>();
  const scaleSetJit = scaleSetRunners(deps.gh, deps.log);

  const scopeOf = async (pool: PoolDefinition): Promise<RunnerScope> => {
    const key = pool.scope?.kind === PoolScopeKind.REPOSITORY ? `repo:${pool.scope.repository}` : `org:${pool.scope?.organization ?? ''}`;
    let installationId = installations.get(key);
    if (installationId === undefined) {
      const [owner, repo] = (pool.scope?.repository ?? '').split('/');
      const installation = pool.scope?.kind === PoolScopeKind.REPOSITORY ? await repoInstallation(deps.gh, owner!, repo!) : await orgInstallation(deps.gh, pool.scope?.organization ?? '');
      installationId = installation.id;
      installations.set(key, installationId);
    }
    return pool.scope?.kind === PoolScopeKind.REPOSITORY ? { installationId, repository: pool.scope.repository } : { installationId, org: pool.scope?.organization ?? '' };
  };

  const poolState = (name: string): PoolState => {
    let s = state.get(name);
    if (!s) state.set(name, (s = { lastError: '', backoffUntil: 0, refusals: [] }));
    return s;
  };

  async function fail(pool: PoolDefinition, runner: RunnerRef, reason: RunnerFailureReason, message: string): Promise<void> {
    await deps.runners.failed(runner.runnerId, message);
    await facts.failed(runner, reason, message);
    deps.log.warn({ pool: pool.name, runner: runner.runnerName, err: message }, 'runner failed; pool backs off');
  }

  /**
   * Failures back a pool off: 10 s after one, doubling up to 5 min, counted from the table (so the
   * executor's runner.failed facts count too, and a restart keeps the backoff).
   */
  function updateBackoff(pool: PoolDefinition, failures: RecentFailures | undefined): string {
    const s = poolState(pool.name);
    if (!failures || failures.count === 0 || !failures.lastAt) {
      // Each pass says afresh what blocks the pool: placement says it again if it still holds.
      s.backoffUntil = 0;
      return '';
    }
    s.backoffUntil = failures.lastAt.getTime() + Math.min(300_000, 10_000 * 2 ** (failures.count - 1));
    return failures.last ?? s.lastError;
  }

  /**
   * New runners' registration and request run beside the passes: a pass writes their rows (so the
   * next pass counts them) and goes on, and a burst of demand no longer waits for the registrations
   * of the one before it.
   */
  const creating = new Set<Promise<void>>();
  const limit = concurrencyLimit(CREATE_CONCURRENCY);

  async function addRunner(pool: PoolDefinition, host: string, platform: RunnerPlatform): Promise<void> {
    const id = randomBytes(4).toString('hex');
    const name = `rh-${pool.name}-${id}`;
    await deps.runners.insert({ id, name, pool: pool.name, host, forJobId: 0n });
    const ref = create(RunnerRefSchema, { runnerId: id, runnerName: name, pool: pool.name, host });
    const work = limit(() => registerAndRequest(pool, ref, platform)).catch((error: unknown) => {
      // The row stays 'requested': its boot timeout retires it.
      poolState(pool.name).lastError = (error as Error).message;
      deps.log.warn({ pool: pool.name, runner: name, err: (error as Error).message }, 'runner request failed; its boot timeout cleans up');
    });
    creating.add(work);
    void work.finally(() => creating.delete(work));
  }

  async function registerAndRequest(pool: PoolDefinition, ref: RunnerRef, platform: RunnerPlatform): Promise<void> {
    const { runnerId: id, runnerName: name, host } = ref;
    // Facts and the command are written to NATS in call order, so they need not wait for each
    // other's PubAck: the row is what must come first (an orphaned registration is found by it).
    const requested = facts.requested(ref, 0n);
    let scope: RunnerScope;
    let registration: { runnerId: number; runnerGroupId: number; encodedJitConfig: string };
    try {
      scope = await scopeOf(pool);
      if (usesScaleSet(pool)) {
        // The scale set's runner: GitHub gives it the jobs the scale set holds (its name is its label).
        registration = await scaleSetJit.register(pool, scope, name);
      } else {
        const runnerGroupId = await resolveRunnerGroup(deps.gh, scope, pool.runnerGroup);
        const rest = await generateJitConfig(deps.gh, scope, { name, labels: pool.labels, platform, runnerGroupId, waitForSlotMs: 5_000 });
        registration = { runnerId: rest.runner.id, runnerGroupId: rest.runner.runner_group_id ?? 0, encodedJitConfig: rest.encodedJitConfig };
      }
    } catch (error) {
      const message = error instanceof ConflictError ? `GitHub already has a runner named ${name}` : `JIT registration failed: ${(error as Error).message}`;
      await requested;
      await fail(pool, ref, RunnerFailureReason.JIT_CONFIG, message);
      return;
    }
    await deps.runners.registered(id, scope.installationId, registration.runnerId);
    const registered = facts.registered(ref, registration.runnerId, registration.runnerGroupId);
    const command = deps.publisher.publish(
      executorCommandSubject(host, 'create'),
      create(CreateRunnerCommandSchema, {
        runner: ref,
        image: pool.image,
        command: pool.command,
        pullPolicy: pool.pullPolicy,
        limits: pool.limits,
        env: pool.env,
        secretEnv: pool.secretEnv,
        cacheVolumes: pool.cacheVolumes,
        networkMode: pool.networkMode,
        dockerInJob: pool.dockerInJob,
        readOnlyRoot: pool.readOnlyRoot,
        sudo: pool.sudo,
        // Registers a runner: travels only in this command, never into a log.
        jitConfig: registration.encodedJitConfig,
        maxLifetimeSeconds: pool.maxLifetimeSeconds,
        requestedAt: timestampNow(),
      }),
      { msgId: `create:${id}` },
    );
    await Promise.all([requested, registered, command]);
    deps.log.info({ pool: pool.name, runner: name, host }, 'runner requested');
  }

  /**
   * Removes a runner: GitHub's registration first (busy there → keep it, unless forced), then the
   * container. A forced removal of a busy runner fails its job at GitHub.
   */
  async function retire(pool: PoolDefinition, runner: RemovableRunner, reason: RemovalReason, why: string, options: { force?: boolean } = {}): Promise<boolean> {
    if (runner.githubRunnerId && runner.installationId) {
      try {
        const scope = await scopeOf(pool);
        await deleteRunner(deps.gh, scope, Number(runner.githubRunnerId));
      } catch (error) {
        if (error instanceof RunnerBusyError) {
          if (!options.force) return false; // it took a job after all
        } else if (!(error instanceof NotFoundError)) throw error;
      }
    }
    await deps.publisher.publish(executorCommandSubject(runner.host, 'remove'), create(RemoveRunnerCommandSchema, { runner: { runnerId: runner.id, runnerName: runner.name, pool: pool.name, host: runner.host }, reason, requestedAt: timestampNow() }), {
      msgId: `remove:${runner.id}`,
    });
    const ref = create(RunnerRefSchema, { runnerId: runner.id, runnerName: runner.name, pool: pool.name, host: runner.host });
    if (reason === RemovalReason.BOOT_TIMEOUT) await fail(pool, ref, RunnerFailureReason.BOOT_TIMEOUT, why);
    else await deps.runners.removed(runner.id, reason === RemovalReason.IDLE_TIMEOUT || reason === RemovalReason.DRAINED ? null : why);
    await facts.removed(ref, reason, why);
    deps.log.info({ pool: pool.name, runner: runner.name, why }, 'runner retired');
    return true;
  }

  /** Our live runners per host with their pools' limits, for placement. */
  async function ownUsage(): Promise<OwnUsage[]> {
    const byName = new Map(deps.pools().map((p) => [p.name, p]));
    const usage = new Map<string, OwnUsage>();
    for (const row of await deps.runners.liveByHost()) {
      const u = usage.get(row.host) ?? { host: row.host, cpus: 0, memoryBytes: 0, runners: 0 };
      const limits = byName.get(row.pool)?.limits;
      u.cpus += (limits?.cpus ?? 1) * row.runners;
      u.memoryBytes += Number(limits?.memoryBytes ?? 0n) * row.runners;
      u.runners += row.runners;
      usage.set(row.host, u);
    }
    return [...usage.values()];
  }

  /** One pool's pass; returns what blocks the pool now ('' for nothing), for its lastError. */
  async function reconcilePool(pool: PoolDefinition, passCounts: PoolCounts, failures: RecentFailures | undefined): Promise<Blocked> {
    const s = poolState(pool.name);
    let blockedBy = updateBackoff(pool, failures);
    let refusals: Refusal[] = [];
    // The retirements below look for runners only where the counts say there can be some: most
    // pools have none being made and none alive most of the time, and a pass runs on every demand
    // snapshot. Whatever they retire is counted afresh.
    let counts = passCounts;
    let retired = false;
    // Boot timeout: asked for, but never took a job in time.
    if (counts.requested + counts.registered > 0) {
      for (const stale of await deps.runners.notBusyOlderThan(pool.name, pool.bootTimeoutSeconds)) {
        if (stale.state === 'requested' || stale.state === 'registered') retired = (await retire(pool, stale, RemovalReason.BOOT_TIMEOUT, `no container came up within ${pool.bootTimeoutSeconds} s`)) || retired;
      }
    }
    // Maximum lifetime: whatever outlived it, busy or not (the executor should have stopped it already).
    if (pool.maxLifetimeSeconds > 0 && live(counts) > 0) {
      for (const old of await deps.runners.liveOlderThan(pool.name, pool.maxLifetimeSeconds + LIFETIME_GRACE_S)) {
        retired = (await retire(pool, old, RemovalReason.MAX_LIFETIME, `alive for more than the pool's maximum lifetime of ${pool.maxLifetimeSeconds} s`, { force: true })) || retired;
      }
    }
    // Drained hosts keep their busy runners until the job ends; waiting ones go now.
    const drainedHosts = deps.drainedHosts();
    if (drainedHosts.size > 0 && counts.starting + counts.idle > 0) {
      for (const waiting of await deps.runners.notBusyOlderThan(pool.name, 0)) {
        if (drainedHosts.has(waiting.host) && (waiting.state === 'starting' || waiting.state === 'idle')) retired = (await retire(pool, waiting, RemovalReason.DRAINED, `host ${waiting.host} is drained`)) || retired;
      }
    }
    if (retired) counts = await deps.runners.counts(pool.name);
    const pending = deps.levels.pending(pool.name);
    const decision = sizePool({
      counts,
      pending,
      finishedSinceDemand: pending > 0 ? await deps.runners.finishedSince(pool.name, deps.levels.demandReceivedAt()) : 0,
      running: deps.levels.running(pool.name),
      minIdle: (deps.warmNow ?? warmMinimum)(pool, new Date()),
      maxRunners: pool.maxRunners,
      drained: pool.drained,
      backingOff: s.backoffUntil > Date.now(),
    });
    if (decision.surplusIdle > 0) {
      // Surplus runners that waited longer than the idle timeout go, oldest first; in a drained pool, at once.
      const idle = (await deps.runners.notBusyOlderThan(pool.name, pool.drained ? 0 : pool.idleTimeoutSeconds)).filter((r) => r.state === 'starting' || r.state === 'idle');
      for (const runner of idle.slice(0, decision.surplusIdle)) {
        if (pool.drained) await retire(pool, runner, RemovalReason.DRAINED, 'the pool is drained');
        else await retire(pool, runner, RemovalReason.IDLE_TIMEOUT, `idle for more than ${pool.idleTimeoutSeconds} s`);
      }
    }
    if (decision.create === 0) return { error: blockedBy, refusals };
    const heartbeats = deps.levels.hosts().map((h) => (drainedHosts.has(h.host) ? { ...h, draining: true } : h));
    let hosts = withOwnRunners(heartbeats, await ownUsage());
    const needs: RunnerNeeds = {
      cpus: pool.limits?.cpus ?? 1,
      memoryBytes: Number(pool.limits?.memoryBytes ?? 0n),
      image: pool.image,
      policy: pool.placement === PlacementPolicy.SPREAD ? 'spread' : 'pack',
      ...platformNeeds(pool),
    };
    // Place every runner of this pass first (each placement sees the ones before), then write their
    // rows; registering and requesting them (Postgres, GitHub, NATS round trips) goes on after the pass.
    const placed: Array<{ host: string; platform: RunnerPlatform }> = [];
    for (let i = 0; i < decision.create; i++) {
      const placement = placeRunner(hosts, needs);
      if (placement.host === null) {
        blockedBy = placement.reason;
        refusals = placement.refusals;
        break;
      }
      const chosen = hosts.find((h) => h.host === placement.host)!;
      hosts = hosts.map((h) => (h.host === placement.host ? reserve(h, needs) : h));
      // The runner registers with its own host's OS and architecture (runnerLabels).
      placed.push({ host: placement.host, platform: platformOf(chosen) });
    }
    for (const { host, platform } of placed) await addRunner(pool, host, platform);
    return { error: blockedBy, refusals };
  }

  return {
    async reconcile(): Promise<void> {
      // Higher-priority pools place first when hosts are short of room; among equals, those with
      // more jobs waiting (which are also the ones a demand snapshot woke this pass for).
      const waiting = (pool: PoolDefinition) => deps.levels.pending(pool.name);
      // Every pool's counts and failures in two queries (a pass runs on every demand snapshot, ten a
      // second under load); a pool's own changes during the pass (retirements) are counted afresh.
      const [counts, failures] = await Promise.all([deps.runners.countsByPool(), deps.runners.recentFailuresByPool(FAILURE_WINDOW_S)]);
      for (const pool of [...deps.pools()].sort((a, b) => b.priority - a.priority || waiting(b) - waiting(a))) {
        try {
          // Set once the pass has worked it out, not cleared at its start: the admin API and the
          // snapshots read it while the pass awaits, and must never see a blocked pool as clear.
          const blocked = await reconcilePool(pool, counts.get(pool.name) ?? noRunners(), failures.get(pool.name));
          Object.assign(poolState(pool.name), { lastError: blocked.error, refusals: blocked.refusals });
        } catch (error) {
          Object.assign(poolState(pool.name), { lastError: (error as Error).message, refusals: [] });
          deps.log.warn({ pool: pool.name, err: (error as Error).message }, 'pool reconcile failed; next pass retries');
        }
      }
    },
    /** Waits for the registrations and requests under way (shutdown). */
    async settle(): Promise<void> {
      while (creating.size > 0) await Promise.all([...creating]);
    },
    state: (pool: string): PoolState => poolState(pool),
    scopeOf,
    /** An operator's removal (admin API); false when the runner is busy and not forced. */
    remove: (pool: PoolDefinition, runner: RemovableRunner, force: boolean): Promise<boolean> =>
      retire(pool, runner, RemovalReason.MANUAL, force ? 'removed by an operator (forced)' : 'removed by an operator', { force }),
  };
}

export type Supply = ReturnType<typeof createSupply>;
