import type { NatsConnection } from '@nats-io/transport-node';
import { decodeMessage, POOL_DEFINITIONS_BUCKET, PoolIntake, poolDefinitionKvSubject, type PoolDefinition } from '@runnerhub/contracts';
import { ASSUMED_PLATFORM, runnerLabels } from '@runnerhub/github';
import { watchKvView, type Logger } from '@runnerhub/platform';
import type { PoolLabels } from './matching.js';

/**
 * The pool definitions the pool-manager publishes to the `rh-pools` KV bucket, kept current by a
 * watch. Never read from the pool-manager's tables: one owner per table.
 */

/**
 * The labels a job is matched against: what every runner of the pool will carry at GitHub, as the
 * pool-manager works it out from the hosts that serve the pool (`runner_labels`: self-hosted, their
 * OS and architecture, the pool's labels). A definition from a pool-manager older than that field
 * carries none; its runners registered as Linux X64, so that is what such a pool serves.
 */
export function poolRunnerLabels(p: Pick<PoolDefinition, 'labels' | 'runnerLabels'>): string[] {
  return p.runnerLabels.length > 0 ? [...p.runnerLabels] : runnerLabels(ASSUMED_PLATFORM, p);
}

/**
 * The labels GitHub routes a pool's jobs by. A pool fed by a runner scale set (intake scaleset or
 * both) has scale-set runners, which carry the scale set's name and nothing else (no self-hosted,
 * OS or architecture: contracts/scale-set.md "Labels"), so only `runs-on: <pool name>` reaches it.
 */
export function routingLabels(p: PoolDefinition): string[] {
  return p.intake === PoolIntake.SCALE_SET || p.intake === PoolIntake.BOTH ? [p.name] : poolRunnerLabels(p);
}

export interface PoolDirectory {
  /** Every published pool, drained ones included (a drained pool still serves its labels; its jobs wait). */
  current(): PoolLabels[];
  get(name: string): PoolDefinition | undefined;
  all(): PoolDefinition[];
  /** Called (coalesced) after definitions changed. */
  onChange(listener: () => void): void;
  stop(): Promise<void>;
}

export async function watchPools(nc: NatsConnection, log: Logger): Promise<PoolDirectory> {
  const view = await watchKvView(nc, POOL_DEFINITIONS_BUCKET, (key, value) => decodeMessage(poolDefinitionKvSubject(key), value), log);
  return {
    current: () =>
      view.values().map((p) => ({ name: p.name, labels: routingLabels(p), priority: p.priority, drained: p.drained, allowPublicRepositories: p.allowPublicRepositories, allowForkPullRequests: p.allowForkPullRequests })),
    get: view.get,
    all: view.values,
    onChange: view.onChange,
    stop: view.stop,
  };
}
