import { streamDefinitions } from '@runnerhub/contracts';
import { bootService, connectNatsFor, createHttpServer, parseAdminTokens, startHttp } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
const base = await bootService({ service: 'metrics', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets } = base;
try {
  await connectNatsFor(base, config.nats, streamDefinitions);
  const http = await createHttpServer({ service: 'metrics', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  await startHttp(base, http, config.http);
  readiness.markStarted();
} catch (err) {
  await base.failStartup(err);
}
