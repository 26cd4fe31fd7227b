/** The six services in one process (docs/architecture.md "All in one process"). */
export { runAllInOne, MODULES } from './all-in-one.js';
export { sectionEnv, sectionOf, ignoredShared, SERVICE_NAMES, SECTION_ONLY } from './sections.js';
export type { ServiceName } from './sections.js';
export { configSchema, secretSpecs } from './config.js';
