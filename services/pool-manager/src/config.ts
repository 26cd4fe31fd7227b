import { Type } from '@sinclair/typebox';
import { adminTokensSecret, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig, postgresConfig, redisConfig } from '@runnerhub/platform';

/** Every variable pool-manager reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('pool-manager'),
  http: httpConfig(8082),
  nats: natsConfig(),
  postgres: postgresConfig(),
  redis: redisConfig(),
});

export const secretSpecs = [adminTokensSecret];
