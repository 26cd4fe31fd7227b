import { streamDefinitions } from '@runnerhub/contracts';
import { bootService, connectNatsFor, connectPostgresFor, connectRedisFor, createHttpServer, parseAdminTokens, startHttp } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
const base = await bootService({ service: 'status-reporter', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets } = base;
try {
  await connectNatsFor(base, config.nats, streamDefinitions);
  await connectPostgresFor(base, config.postgres, { name: 'status_reporter', migrations: new URL('../migrations/', import.meta.url) });
  await connectRedisFor(base, config.redis, 'status-reporter');
  const http = await createHttpServer({ service: 'status-reporter', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  await startHttp(base, http, config.http);
  readiness.markStarted();
} catch (err) {
  await base.failStartup(err);
}
