import { randomUUID } from 'node:crypto';
import { contractsCodec, streamDefinitions, type SubjectMessages } from '@runnerhub/contracts';
import { createDockerClient } from '@runnerhub/docker';
import { defineService, connectNatsFor, createHttpServer, createPublisher, parseAdminTokens, runConsumersWhenReady, startHttp, waitForDependency } from '@runnerhub/platform';
import type { Static } from '@sinclair/typebox';
import { consumeExecutorCommands } from './commands.js';
import type { configSchema } from './config.js';
import { pingDocker } from './docker-ping.js';
import { startExitWatcher } from './exit-watcher.js';
import { startHeartbeats } from './heartbeat-loop.js';
import { hostCapabilitiesReader, readRecordedInfo } from './host-capabilities.js';
import { parseHostLabels, type HostSettings } from './host-state.js';
import { registerExecutorRoutes } from './http.js';
import { startNetworkStock } from './network-stock.js';
import { trackRunnerJobs } from './runner-jobs.js';

export type ContainerExecutorConfig = Readonly<Static<typeof configSchema>>;

// Wiring only. Start order is the reverse of stop order: HTTP stops first, then the connections.
export const start = defineService<ContainerExecutorConfig>('container-executor', async (base) => {
  const { config, log, readiness, telemetry, secrets, lifecycle } = base;
  const nc = await connectNatsFor(base, config.nats, streamDefinitions);
  await waitForDependency(base, 'docker', () => pingDocker(config.docker.host));
  readiness.addCheck('docker', () => pingDocker(config.docker.host));
  const docker = createDockerClient(config.docker.host, { timeoutMs: config.docker.idleTimeoutSeconds * 1000 });
  const publisher = createPublisher<SubjectMessages>(nc, contractsCodec);
  const { hostId, deploymentId } = config.executor;
  const capabilities = hostCapabilitiesReader(docker, config.executor.dockerInfoFile ? { recorded: readRecordedInfo(config.executor.dockerInfoFile) } : {});
  if (config.executor.dockerInfoFile) log.warn({ file: config.executor.dockerInfoFile }, 'host capabilities come from a recorded docker info (EXECUTOR_DOCKER_INFO_FILE), not from this engine');
  let draining = false;
  const host: HostSettings = {
    host: hostId,
    deploymentId,
    instanceId: randomUUID(),
    startedAt: new Date(),
    reservedCpus: config.executor.reservedCpus,
    reservedMemoryBytes: config.executor.reservedMemoryMb * 1024 * 1024,
    maxContainers: config.executor.maxContainers,
    labels: parseHostLabels(config.executor.labels),
    draining: () => draining,
  };
  const networks = startNetworkStock({ docker, deploymentId, host: hostId, size: config.executor.spareNetworks, log });
  lifecycle.onStop('spare-networks', () => networks.stop());
  const createSteps = telemetry.meter.createHistogram('runnerhub_executor_create_step_seconds', {
    description: 'Time of each step of a runner create (lookup, image, network, create, archive, start, report): where a slow cold start went.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
  });
  const allowedSecrets = new Set(config.executor.runnerSecrets);
  const runners = {
    docker,
    publisher,
    host: hostId,
    deploymentId,
    runnerUid: config.executor.runnerUid,
    runnerSecret: (name: string) => (allowedSecrets.has(name) ? secrets.find(name) : undefined),
    capabilities: capabilities.current,
    networks,
    observeStep: (step: string, seconds: number) => createSteps.record(seconds, { step }),
    log,
  };
  const runnerJobs = trackRunnerJobs(nc, log);
  lifecycle.onStop('runner-jobs', () => runnerJobs.stop());
  const exits = startExitWatcher({ docker, publisher, host: hostId, deploymentId, earlyExitSeconds: config.executor.earlyExitSeconds, strayNetworkSeconds: config.executor.strayNetworkSeconds, spareNetworks: networks, jobOf: (name) => runnerJobs.jobOf(name), dockerIdleTimeoutMs: config.docker.idleTimeoutSeconds * 1000, log });
  lifecycle.onStop('exit-watcher', () => exits.stop());
  const heartbeats = startHeartbeats({ docker, publisher, host, capabilities, seconds: config.executor.heartbeatSeconds, log });
  lifecycle.onStop('heartbeats', () => heartbeats.stop());
  runConsumersWhenReady(base, await consumeExecutorCommands(nc, { runners, exits, docker, host, publisher, log, createConcurrency: config.executor.createConcurrency }));

  const http = await createHttpServer({ service: 'container-executor', log, readiness, telemetry, adminTokens: parseAdminTokens(secrets.find('ADMIN_TOKENS')) });
  registerExecutorRoutes(http, { docker, host, setDraining: (on) => (draining = on) });
  await startHttp(base, http, config.http);
  readiness.markStarted();
});
