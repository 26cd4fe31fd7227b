/**
 * The labels a RunnerHub runner really carries at GitHub (docs/github-app.md "Labels"). GitHub gives
 * a runner made from a JIT config exactly the labels `generate-jitconfig` was sent: unlike
 * `config.sh`, nothing adds `self-hosted`, the OS or the architecture. So RunnerHub sends them
 * itself, taken from the Docker host the runner will run on, never assumed: an ARM64 host's runner
 * says ARM64 and can never be given an X64 job. GitHub matches labels case-insensitively; the names
 * are sent as GitHub spells its own (`self-hosted`, `Linux`, `X64`, `ARM64`, `ARM`).
 */

export const SELF_HOSTED_LABEL = 'self-hosted';
/** GitHub's OS labels, as it spells them. */
export const RUNNER_OS_LABELS = ['Linux', 'Windows', 'macOS'] as const;
/** GitHub's architecture labels, as it spells them. */
export const RUNNER_ARCHITECTURE_LABELS = ['X64', 'ARM64', 'ARM'] as const;

/** What of a host decides its labels: HostCapabilities (libs/docker) or its heartbeat, as strings. */
export interface RunnerPlatform {
  os: string | null;
  architecture: string | null;
}

/**
 * The platform the pool-manager registers for while executors do not report their host yet (the
 * x64 Linux every test machine is, and what the scheduler assumed before).
 */
export const ASSUMED_PLATFORM: RunnerPlatform = { os: 'Linux', architecture: 'X64' };

const lower = (label: string) => label.toLowerCase();

function known(value: string | null, names: readonly string[]): string | undefined {
  return value === null ? undefined : names.find((n) => lower(n) === lower(value));
}

/**
 * Pool labels that name another OS or architecture than the host's: a runner carrying them could be
 * given a job it cannot run (an `x64` label on an ARM64 host), so runnerLabels leaves them out.
 */
export function conflictingLabels(host: RunnerPlatform, poolLabels: readonly string[]): string[] {
  const os = known(host.os, RUNNER_OS_LABELS);
  const architecture = known(host.architecture, RUNNER_ARCHITECTURE_LABELS);
  return poolLabels.filter((label) => {
    const isOs = known(label, RUNNER_OS_LABELS);
    const isArchitecture = known(label, RUNNER_ARCHITECTURE_LABELS);
    return (isOs !== undefined && isOs !== os) || (isArchitecture !== undefined && isArchitecture !== architecture);
  });
}

/**
 * `self-hosted`, the host's OS and architecture (an unknown one gives no label), then the pool's own
 * labels: without duplicates (case-insensitive, first spelling kept) and without a label naming
 * another OS or architecture. The order is the one GitHub's docs use in `runs-on`.
 */
export function runnerLabels(host: RunnerPlatform, pool: { labels: readonly string[] }): string[] {
  const labels: string[] = [SELF_HOSTED_LABEL];
  const os = known(host.os, RUNNER_OS_LABELS);
  const architecture = known(host.architecture, RUNNER_ARCHITECTURE_LABELS);
  if (os) labels.push(os);
  if (architecture) labels.push(architecture);
  const refused = new Set(conflictingLabels(host, pool.labels).map(lower));
  for (const label of pool.labels) {
    if (refused.has(lower(label)) || labels.some((l) => lower(l) === lower(label))) continue;
    labels.push(label);
  }
  return labels;
}

/** GitHub's rule: a runner can take a job when every `runs-on` label is one of its own, in any case. */
export function labelsMatch(runnerLabelNames: readonly string[], jobLabels: readonly string[]): boolean {
  const have = new Set(runnerLabelNames.map(lower));
  return jobLabels.every((label) => have.has(lower(label)));
}
