export { createGuardServer } from './guard-server.js';
export type { GuardServer, GuardServerSettings } from './guard-server.js';
export { configSchema, secretSpecs } from './config.js';
export { start } from './service.js';
export type { SocketGuardConfig } from './service.js';
