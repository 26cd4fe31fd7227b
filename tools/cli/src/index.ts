export { main, type Io } from './cli.js';
export { createClients, type Clients } from './client.js';
export { resolveSettings, parseProfile, SERVICE_PORTS, type Settings } from './config.js';
export { EXIT, CliError } from './errors.js';
export { createMcpServer } from './mcp.js';
