import { ALLOW, deny, foreignReason, type Decision, type GuardPolicy, type Labels } from './policy.js';
import type { Route } from './routes.js';

/**
 * A call on one container or network, once the proxy has looked the target up through the Docker
 * socket: allowed only on this deployment's objects. `labels` null: Docker has no such object, and
 * its own 404 is the answer (nothing to protect, and the executor relies on it).
 */
export function decideOnTarget(route: Extract<Route, { kind: 'container' | 'network' }>, labels: Labels, policy: GuardPolicy): Decision {
  const why = foreignReason(labels, policy);
  if (why) return deny(`${route.what} on ${route.kind} "${route.id}" refused: ${why}`);
  return ALLOW;
}
