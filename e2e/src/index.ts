export { startPlatform, SERVICES, RUNNER_IMAGES } from './platform.js';
export type { Platform, PlatformOptions, ServiceName } from './platform.js';
