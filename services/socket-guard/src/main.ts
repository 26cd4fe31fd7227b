import { bootService } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';
import { start } from './service.js';

// The process: config and secrets, then the service (src/service.ts), which here owns the signals.
const { config, deps } = await bootService({ service: 'socket-guard', schema: configSchema, secrets: secretSpecs });
await start(config, deps);
