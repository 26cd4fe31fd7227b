import { defineService, createHttpServer, parseAdminTokens, startHttp, waitForDependency } from '@runnerhub/platform';
import type { Static } from '@sinclair/typebox';
import type { configSchema } from './config.js';
import { pingSocket } from './docker-ping.js';
import { createGuardServer } from './guard-server.js';
import { createJobEndpoints } from './job-endpoints.js';

export type SocketGuardConfig = Readonly<Static<typeof configSchema>>;

// Wiring only. The guarded API starts once Docker answers and stops first on the way out.
export const start = defineService<SocketGuardConfig>('socket-guard', async (base) => {
  const { config, log, readiness, telemetry, secrets, lifecycle } = base;
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
  if (guard.jobEndpoints) {
    const refusals = telemetry.meter.createCounter('runnerhub_job_endpoint_refusals', { description: "Calls a job's scoped Docker endpoint refused, by route (what the call is)." });
    for (const deploymentId of guard.deployments.filter((d) => d !== '*')) {
      const jobs = createJobEndpoints({ deploymentId, dockerSocket: guard.dockerSocket, protectedImages: guard.images, log, onRefuse: (_runner, what) => refusals.add(1, { route: what }) });
      lifecycle.onStop(`job endpoints of ${deploymentId}`, () => jobs.stop());
      await jobs.start();
    }
  }
  log.info({ address, ...policy }, 'guarded Docker API listening');
  readiness.markStarted();
});
