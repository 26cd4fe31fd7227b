import { Type } from '@sinclair/typebox';
import { adminTokensSecret, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig } from '@runnerhub/platform';

/** Every variable metrics reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('metrics'),
  http: httpConfig(8085),
  nats: natsConfig(),
});

export const secretSpecs = [adminTokensSecret];
