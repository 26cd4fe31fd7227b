import { bootService, createHttpServer, parseAdminTokens, startHttp, waitForDependency } from '@runnerhub/platform';
import { configSchema, secretSpecs } from './config.js';
import { pingSocket } from './docker-ping.js';
import { createGuardServer } from './guard-server.js';

// Wiring only. The guarded API starts once Docker answers and stops first on the way out.
const base = await bootService({ service: 'socket-guard', schema: configSchema, secrets: secretSpecs });
const { config, log, readiness, telemetry, secrets, lifecycle } = base;
try {
  const { guard } = config;
  await waitForDependency(base, 'docker', () => pingSocket(guard.dockerSocket));
  readiness.addCheck('docker', () => pingSocket(guard.dockerSocket));

  const http = await createHttpServer({ service: 'socket-guard', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  await startHttp(base, http, config.http);

  const decisions = telemetry.meter.createCounter('runnerhub_socket_guard_requests', { description: 'Docker API calls the socket guard decided on, by route (what the call is) and decision (allowed, refused).' });
  const policy = { deployments: guard.deployments, namePrefix: guard.namePrefix, images: guard.images, volumes: guard.volumes, sudoPools: guard.sudoPools };
  const api = createGuardServer({ policy, dockerSocket: guard.dockerSocket, bodyLimitBytes: guard.bodyLimitBytes, log, decisions });
  lifecycle.onStop('guarded docker api', () => api.close());
  const address = await api.listen(guard.host, guard.port);
  log.info({ address, ...policy }, 'guarded Docker API listening');
  readiness.markStarted();
} catch (err) {
  await base.failStartup(err);
}
