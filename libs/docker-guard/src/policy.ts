import { LABEL } from '@runnerhub/docker';

/**
 * What one guard lets through: which deployments' objects it may touch, which images it may pull
 * and run, which cache volumes a runner may mount, and which pools may run `sudo` specs. Built once
 * from configuration (services/socket-guard) and handed to every decision; the decisions are pure.
 */
export interface GuardPolicy {
  /** Deployment ids (the io.runnerhub.deployment label) this guard serves; `['*']`: any RunnerHub deployment (shared test machines only). */
  deployments: readonly string[];
  /** Every container and network name starts with it (the executor's runner and network names: `rh-`). */
  namePrefix: string;
  /** Image references that may be pulled and run; `*` matches any run of characters (`ghcr.io/actions/actions-runner:*`). */
  images: readonly string[];
  /** Named volumes a runner may mount (pool cacheVolumes), same patterns. */
  volumes: readonly string[];
  /** Pools (io.runnerhub.pool) whose specs may keep SUDO_CAPABILITIES and drop no-new-privileges; `*` any. */
  sudoPools: readonly string[];
}

export type Decision = { allow: true } | { allow: false; reason: string };

export const ALLOW: Decision = Object.freeze({ allow: true });
export function deny(reason: string): Decision {
  return { allow: false, reason };
}

/** `*` stands for any run of characters; everything else is literal. */
export function matchesPattern(value: string, pattern: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}

export function matchesAny(value: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesPattern(value, p));
}

/** Labels of an object (container, network) the guard was asked to act on. */
export type Labels = Readonly<Record<string, string>> | null | undefined;

/** Why an object's labels do not make it this guard's, or undefined when they do. */
export function foreignReason(labels: Labels, policy: GuardPolicy): string | undefined {
  if (labels?.[LABEL.managed] !== 'true') return `it does not carry the label ${LABEL.managed}=true: it is not RunnerHub's`;
  const deployment = labels[LABEL.deployment];
  if (!deployment) return `it carries no ${LABEL.deployment} label`;
  if (!servesDeployment(deployment, policy)) return `it belongs to deployment "${deployment}", not to ${describeDeployments(policy)}`;
  return undefined;
}

export function servesDeployment(deployment: string, policy: GuardPolicy): boolean {
  return policy.deployments.includes('*') ? deployment.length > 0 : policy.deployments.includes(deployment);
}

export function describeDeployments(policy: GuardPolicy): string {
  return policy.deployments.includes('*') ? 'any RunnerHub deployment' : policy.deployments.map((d) => `"${d}"`).join(', ');
}

/** The default reference the guard compares: `name:tag` (tag `latest` when none) or `name@digest`. */
export function normaliseImage(reference: string): string {
  if (reference.includes('@')) return reference;
  const slash = reference.lastIndexOf('/');
  return reference.slice(slash + 1).includes(':') ? reference : `${reference}:latest`;
}
