export { runRunner } from './runner.js';
export type { RunnerIo, RunnerOptions } from './runner.js';
export { decodeJitConfig, settingsFrom, JitConfigError } from './jit-config.js';
export type { RunnerSettings } from './jit-config.js';
