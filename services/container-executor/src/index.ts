/** The container-executor as a library: start() runs it in a process (main.ts, the all-in-one, tests). */
export { start } from './service.js';
export type { ContainerExecutorConfig } from './service.js';
export { configSchema, secretSpecs } from './config.js';
