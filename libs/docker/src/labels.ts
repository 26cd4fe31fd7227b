/**
 * Ownership labels on every container and network RunnerHub creates. Sweeps and inventories trust
 * only these: a container without this deployment's label is never touched.
 */
export const LABEL = {
  managed: 'io.runnerhub.managed',
  deployment: 'io.runnerhub.deployment',
  pool: 'io.runnerhub.pool',
  runnerId: 'io.runnerhub.runner-id',
  runnerName: 'io.runnerhub.runner-name',
  jobId: 'io.runnerhub.job-id',
  host: 'io.runnerhub.host',
  // What the executor needs to know about a container long after the command that made it.
  cpus: 'io.runnerhub.cpus',
  memoryBytes: 'io.runnerhub.memory-bytes',
  keepAfterExit: 'io.runnerhub.keep-after-exit',
  ownNetwork: 'io.runnerhub.own-network',
  // On a network the executor made ahead of need, before any runner took it.
  spareNetwork: 'io.runnerhub.spare-network',
  maxLifetimeSeconds: 'io.runnerhub.max-lifetime-seconds',
  // `scoped` on a runner that gets a job-scoped Docker endpoint (services/socket-guard job-endpoints.ts).
  dockerInJob: 'io.runnerhub.docker-in-job',
} as const;

export interface Ownership {
  deploymentId: string;
  host: string;
  pool: string;
  runnerId: string;
  runnerName: string;
  /** The job whose demand caused the runner; "0" for a warm runner. */
  jobId: string;
}

export function ownershipLabels(o: Ownership): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.deployment]: o.deploymentId,
    [LABEL.host]: o.host,
    [LABEL.pool]: o.pool,
    [LABEL.runnerId]: o.runnerId,
    [LABEL.runnerName]: o.runnerName,
    [LABEL.jobId]: o.jobId,
  };
}

/** `filters` for list and events calls: this deployment's containers only. */
export function deploymentFilter(deploymentId: string): { label: string[] } {
  return { label: [`${LABEL.managed}=true`, `${LABEL.deployment}=${deploymentId}`] };
}

export function isOwnedBy(labels: Record<string, string> | undefined, deploymentId: string): boolean {
  return labels?.[LABEL.managed] === 'true' && labels[LABEL.deployment] === deploymentId;
}
