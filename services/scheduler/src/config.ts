import { Type } from '@sinclair/typebox';
import { adminTokensSecret, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig, postgresConfig, redisConfig } from '@runnerhub/platform';

/** Every variable scheduler reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('scheduler'),
  http: httpConfig(8081),
  nats: natsConfig(),
  postgres: postgresConfig(),
  redis: redisConfig(),
});

export const secretSpecs = [adminTokensSecret];
