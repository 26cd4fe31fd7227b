import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  create,
  decodeFrom,
  executorCommandSubject,
  InventoryRequestSchema,
  RemovalReason,
  RemoveRunnerCommandSchema,
  RunnerRefSchema,
  timestampNow,
  type InventoryResponse,
  type PoolDefinition,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { deleteRunner, listRunners, NotFoundError, RunnerBusyError, type GitHubClient, type RunnerScope } from '@runnerhub/github';
import type { Logger, Publisher } from '@runnerhub/platform';
import type { Levels } from './inputs.js';
import { runnerFacts } from './runner-facts.js';
import type { RunnersStore } from './runners-store.js';

/**
 * The orphan reapers: whatever exists in GitHub or in Docker that no live runner row owns is removed.
 * They make a pool-manager killed at any moment harmless: rows are written before anything is
 * created, so after a crash every registration or container is either owned by a live row (and
 * the boot-timeout reaper deals with it) or an orphan (and these deal with it).
 */

export interface OrphanDeps {
  gh: GitHubClient;
  runners: RunnersStore;
  levels: Levels;
  publisher: Publisher<SubjectMessages>;
  pools(): PoolDefinition[];
  scopeOf(pool: PoolDefinition): Promise<RunnerScope>;
  log: Logger;
}

const LIVE = new Set(['requested', 'registered', 'starting', 'idle', 'busy']);

/** GitHub registrations named like ours (rh-<pool>-) with no live row and no job: deleted. */
export async function reapGitHubOrphans(deps: OrphanDeps): Promise<number> {
  let reaped = 0;
  for (const pool of deps.pools()) {
    const scope = await deps.scopeOf(pool);
    for (const runner of await listRunners(deps.gh, scope, `rh-${pool.name}-`)) {
      const row = await deps.runners.byName(runner.name);
      if ((row && LIVE.has(row.state)) || runner.busy) continue;
      try {
        await deleteRunner(deps.gh, scope, runner.id);
        reaped += 1;
        deps.log.info({ pool: pool.name, runner: runner.name, row: row?.state ?? 'none' }, 'GitHub orphan runner deleted');
      } catch (error) {
        if (!(error instanceof RunnerBusyError) && !(error instanceof NotFoundError)) throw error;
      }
    }
  }
  return reaped;
}

/**
 * A runner whose container started more than this long before an inventory was asked for, and that
 * the inventory does not list, has vanished (removed by hand, a Docker restart) without an exit seen.
 */
const VANISHED_AFTER_MS = 30_000;

/**
 * Asks every host for its inventory. Containers whose runner has no live row get a remove command
 * (Docker orphans); live rows whose container the inventory lacks are closed and their GitHub
 * registration deleted (vanished containers). Answers arrive on executor.inventory.<host>; the
 * ones for our request ids are handled as they come.
 */
export function startDockerOrphanReaper(nc: NatsConnection, deps: OrphanDeps): { sweep(): Promise<void>; stop(): void } {
  const pending = new Map<string, number>();
  const sub: Subscription = nc.subscribe('executor.inventory.*');
  void (async () => {
    for await (const m of sub) {
      try {
        const answer = decodeFrom('executor.inventory.*', m.subject, m.data);
        const askedAt = pending.get(answer.requestId);
        if (askedAt === undefined) continue;
        pending.delete(answer.requestId);
        await closeVanished(deps, answer, askedAt);
        for (const container of answer.containers) {
          const row = container.runnerId ? await deps.runners.byId(container.runnerId) : undefined;
          if (row && LIVE.has(row.state)) continue;
          await deps.publisher.publish(
            executorCommandSubject(answer.host, 'remove'),
            create(RemoveRunnerCommandSchema, {
              runner: { runnerId: container.runnerId, runnerName: container.name, pool: container.pool, host: answer.host },
              containerId: container.containerId,
              reason: RemovalReason.ORPHAN,
              requestedAt: timestampNow(),
            }),
            { msgId: `orphan:${container.containerId}:${answer.requestId}` },
          );
          deps.log.info({ host: answer.host, container: container.name, row: row?.state ?? 'none' }, 'Docker orphan container removed');
        }
      } catch (err) {
        deps.log.warn({ err: (err as Error).message }, 'inventory answer not handled');
      }
    }
  })();
  return {
    async sweep() {
      for (const host of deps.levels.hosts().filter((h) => h.healthy)) {
        const requestId = randomUUID();
        pending.set(requestId, Date.now());
        setTimeout(() => pending.delete(requestId), 60_000).unref();
        await deps.publisher.publish(executorCommandSubject(host.host, 'inventory'), create(InventoryRequestSchema, { requestId, requestedAt: timestampNow() }), { msgId: `inventory:${requestId}` });
      }
    },
    stop: () => sub.unsubscribe(),
  };
}

async function closeVanished(deps: OrphanDeps, answer: InventoryResponse, askedAt: number): Promise<void> {
  const listed = new Set(answer.containers.map((c) => c.runnerId));
  for (const row of await deps.runners.withContainerOn(answer.host, new Date(askedAt - VANISHED_AFTER_MS))) {
    if (listed.has(row.id)) continue;
    const pool = deps.pools().find((p) => p.name === row.pool);
    if (pool && row.githubRunnerId) {
      try {
        await deleteRunner(deps.gh, await deps.scopeOf(pool), Number(row.githubRunnerId));
      } catch (error) {
        // Busy at GitHub with no container: GitHub fails the job once the runner stops answering.
        if (!(error instanceof RunnerBusyError) && !(error instanceof NotFoundError)) throw error;
      }
    }
    const why = `its container vanished from ${answer.host} without an exit being seen`;
    if (await deps.runners.removed(row.id, why)) {
      await runnerFacts(deps.publisher, deps.log).removed(create(RunnerRefSchema, { runnerId: row.id, runnerName: row.name, pool: row.pool, host: row.host }), RemovalReason.CONTAINER_VANISHED, why);
      deps.log.warn({ pool: row.pool, runner: row.name, host: answer.host, state: row.state }, 'runner container vanished; runner closed');
    }
  }
}
