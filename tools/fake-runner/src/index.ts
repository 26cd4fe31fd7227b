export { runRunner, runListener, runShExitCode, LISTENER_CODE } from './runner.js';
export { SUDO_HINT } from './job.js';
export type { RunnerIo, RunnerOptions } from './runner.js';
export { decodeJitConfig, settingsFrom, JitConfigError } from './jit-config.js';
export type { RunnerSettings } from './jit-config.js';
