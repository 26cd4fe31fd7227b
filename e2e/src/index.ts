export { startPlatform, SERVICES } from './platform.js';
export type { Platform, PlatformOptions, ServiceName } from './platform.js';
