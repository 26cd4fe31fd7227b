/** The webhook-gateway as a library: start() runs it in a process (main.ts, the all-in-one, tests). */
export { start } from './service.js';
export type { WebhookGatewayConfig } from './service.js';
export { configSchema, secretSpecs } from './config.js';
