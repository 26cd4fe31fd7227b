import { DockerInJobMode, type PoolDefinition } from '@runnerhub/contracts';
import { ASSUMED_PLATFORM, RUNNER_ARCHITECTURE_LABELS, RUNNER_OS_LABELS, runnerLabels, type RunnerPlatform } from '@runnerhub/github';
import { canEverServe, platformOf, type HostCapacity, type RunnerNeeds } from './placement.js';

/**
 * A pool's platform: what its labels say its runners must run on, and the labels its runners carry
 * at GitHub given the hosts that can serve it (docs/pools.md "Labels").
 *
 * A pool label naming an architecture (`arm64`, any case) or an OS is a requirement: its runners go
 * only to hosts of that architecture, and a job asking for it is never given a runner of another.
 * Without one, the pool's runners go to any host and each carries its own host's architecture.
 */

const spelled = (label: string, names: readonly string[]) => names.find((n) => n.toLowerCase() === label.trim().toLowerCase());

/** The architectures and OSes a pool's labels name, GitHub's spelling, in the order given. */
export function namedPlatforms(labels: readonly string[]): { architectures: string[]; oses: string[] } {
  const architectures = [...new Set(labels.map((l) => spelled(l, RUNNER_ARCHITECTURE_LABELS)).filter((x): x is string => x !== undefined))];
  const oses = [...new Set(labels.map((l) => spelled(l, RUNNER_OS_LABELS)).filter((x): x is string => x !== undefined))];
  return { architectures, oses };
}

export type PlatformNeeds = Pick<RunnerNeeds, 'architecture' | 'os' | 'runtime' | 'hostSelector'>;

export function platformNeeds(pool: Pick<PoolDefinition, 'labels' | 'dockerInJob' | 'hostSelector'>): PlatformNeeds {
  const { architectures, oses } = namedPlatforms(pool.labels);
  return {
    architecture: architectures[0] ?? null,
    os: oses[0] ?? null,
    runtime: pool.dockerInJob === DockerInJobMode.SYSBOX ? 'sysbox-runc' : null,
    hostSelector: pool.hostSelector,
  };
}

function common(values: ReadonlyArray<string | null>): string | null {
  const first = values[0] ?? null;
  return values.every((v) => (v ?? '').toLowerCase() === (first ?? '').toLowerCase()) ? first : null;
}

/**
 * Every label each runner of the pool will carry: `self-hosted`, the OS and the architecture where
 * all the hosts that can serve it agree, then the pool's labels. The scheduler matches jobs against
 * these, so a job is only ever matched to a pool whose every runner can take it. With no host able
 * to serve the pool, the labels follow the hosts there are (a pool that names its architecture
 * keeps it); with no host known at all, Linux X64, as every runner was before hosts reported.
 */
export function poolRunnerLabels(pool: Pick<PoolDefinition, 'labels' | 'dockerInJob' | 'hostSelector'>, hosts: readonly HostCapacity[]): string[] {
  const needs = platformNeeds(pool);
  const serving = hosts.filter((h) => canEverServe(h, needs));
  const basis = serving.length > 0 ? serving : hosts;
  const platform: RunnerPlatform =
    basis.length === 0 ? { ...ASSUMED_PLATFORM } : { os: common(basis.map((h) => platformOf(h).os)), architecture: common(basis.map((h) => platformOf(h).architecture)) };
  if (needs.os) platform.os = needs.os;
  if (needs.architecture) platform.architecture = needs.architecture;
  return runnerLabels(platform, pool);
}
