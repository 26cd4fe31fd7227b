export { createGuardServer } from './guard-server.js';
export type { GuardServer, GuardServerSettings } from './guard-server.js';
export { configSchema, secretSpecs } from './config.js';
export { start } from './service.js';
export type { SocketGuardConfig } from './service.js';
export { createJobEndpoint, dockerCall } from './job-endpoint.js';
export type { JobEndpoint, JobEndpointSettings } from './job-endpoint.js';
export { createJobEndpoints } from './job-endpoints.js';
export type { JobEndpoints, JobEndpointsSettings, CleanUpReport } from './job-endpoints.js';
