export { classify } from './routes.js';
export type { Route } from './routes.js';
export { checkContainerCreate } from './container-create.js';
export type { CreateQuery } from './container-create.js';
export { checkNetworkCreate } from './network-create.js';
export { decideOnTarget } from './target.js';
export { ALLOW, deny, foreignReason, matchesPattern, matchesAny, normaliseImage, servesDeployment } from './policy.js';
export type { GuardPolicy, Decision, Labels } from './policy.js';
export { classifyJob } from './job-routes.js';
export type { JobRoute } from './job-routes.js';
export {
  JOB_LABEL,
  checkJobBuild,
  checkJobContainerCreate,
  checkJobExec,
  checkJobNetworkCreate,
  checkJobPull,
  checkJobVolumeCreate,
  isJobObject,
  isZero,
  jobImageTag,
  jobLabels,
  mapWorkPath,
  scopeFilters,
  scopedName,
} from './job-scope.js';
export type { JobCreateInput, JobCreateQuery, JobScope, Rewrite } from './job-scope.js';
