import { Type } from '@sinclair/typebox';
import { adminTokensSecret, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig, postgresConfig, redisConfig } from '@runnerhub/platform';

/** Every variable status-reporter reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('status-reporter'),
  http: httpConfig(8084),
  nats: natsConfig(),
  postgres: postgresConfig(),
  redis: redisConfig(),
});

export const secretSpecs = [adminTokensSecret];
