import { streamDefinitions } from '@runnerhub/contracts';
import { bootService, connectNatsFor, createHttpServer, parseAdminTokens, startHttp, waitForDependency } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';
import { pingDocker } from './docker-ping.js';

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
const base = await bootService({ service: 'container-executor', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets } = base;
try {
  await connectNatsFor(base, config.nats, streamDefinitions);
  await waitForDependency(base, 'docker', () => pingDocker(config.docker.host));
  readiness.addCheck('docker', () => pingDocker(config.docker.host));
  const http = await createHttpServer({ service: 'container-executor', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  await startHttp(base, http, config.http);
  readiness.markStarted();
} catch (err) {
  await base.failStartup(err);
}
