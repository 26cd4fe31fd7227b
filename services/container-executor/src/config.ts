import { Type } from '@sinclair/typebox';
import { adminTokensSecret, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig, env } from '@runnerhub/platform';
import { hostname } from 'node:os';

/** Every variable container-executor reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('container-executor'),
  http: httpConfig(8083),
  nats: natsConfig(),
  executor: Type.Object({
    hostId: env.string('EXECUTOR_HOST_ID', {
      default: hostname().split('.')[0]!.replace(/[^A-Za-z0-9_-]/g, '-'),
      defaultText: 'the machine\'s hostname',
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'Name of this Docker host in subjects (cmd.executor.<host>.*); letters, digits, - and _ only.',
    }),
  }),
  docker: Type.Object({
    host: env.string('DOCKER_HOST', {
      default: 'tcp://127.0.0.1:2375',
      pattern: '^(tcp|unix)://.+',
      description: 'The Docker socket proxy (tcp://host:port); unix:///path reaches a socket directly (development only).',
    }),
  }),
});

export const secretSpecs = [adminTokensSecret];
