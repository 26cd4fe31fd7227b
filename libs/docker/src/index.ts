export { createDockerClient, dockerStatus } from './client.js';
export { LABEL, ownershipLabels, deploymentFilter, isOwnedBy } from './labels.js';
export type { Ownership } from './labels.js';
export { runnerContainerSpec, ContainerSpecError } from './container-spec.js';
export type { RunnerContainerRequest, CacheVolumeRequest } from './container-spec.js';
export { JIT_DIR, jitArchive, wrapCommand } from './jit-delivery.js';
export { demuxLogLines } from './logs.js';
export { watchLeftovers } from './leftovers.js';
export type { Leftovers, LeftoverWatch } from './leftovers.js';
