import { streamDefinitions } from '@runnerhub/contracts';
import { bootService, connectNatsFor, connectPostgresFor, connectRedisFor, createHttpServer, parseAdminTokens, startHttp } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
const base = await bootService({ service: 'pool-manager', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets } = base;
try {
  await connectNatsFor(base, config.nats, streamDefinitions);
  await connectPostgresFor(base, config.postgres, { name: 'pool_manager', migrations: new URL('../migrations/', import.meta.url) });
  await connectRedisFor(base, config.redis, 'pool-manager');
  const http = await createHttpServer({ service: 'pool-manager', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  await startHttp(base, http, config.http);
  readiness.markStarted();
} catch (err) {
  await base.failStartup(err);
}
