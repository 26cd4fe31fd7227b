export { classify } from './routes.js';
export type { Route } from './routes.js';
export { checkContainerCreate } from './container-create.js';
export type { CreateQuery } from './container-create.js';
export { checkNetworkCreate } from './network-create.js';
export { decideOnTarget } from './target.js';
export { ALLOW, deny, foreignReason, matchesPattern, matchesAny, normaliseImage, servesDeployment } from './policy.js';
export type { GuardPolicy, Decision, Labels } from './policy.js';
