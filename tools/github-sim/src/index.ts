export * from './api.js';
export { startGitHubSim } from './server.js';
