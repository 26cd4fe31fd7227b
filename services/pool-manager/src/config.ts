import { Type } from '@sinclair/typebox';
import { githubConfig, githubPrivateKeySecret } from '@runnerhub/github';
import { adminTokensSecret, env, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig, postgresConfig, redisConfig, retentionConfig } from '@runnerhub/platform';

/** Every variable pool-manager reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('pool-manager'),
  http: httpConfig(8082),
  nats: natsConfig(),
  postgres: postgresConfig(),
  retention: retentionConfig(),
  redis: redisConfig(),
  github: githubConfig(),
  pools: Type.Object({
    file: env.optionalString('POOLS_FILE', { description: 'YAML file declaring the pools (docs/pools.md); reloaded on SIGHUP. None: only pools created through the admin API.' }),
    reaperSeconds: env.integer('POOL_REAPER_SECONDS', {
      default: 60,
      minimum: 1,
      maximum: 3600,
      description: 'Period of the orphan reapers: GitHub registrations and Docker containers that no live runner owns are removed.',
    }),
    reconcileSeconds: env.integer('POOL_RECONCILE_SECONDS', { default: 2, minimum: 1, maximum: 60, description: 'Period of the reconcile pass over every pool (it also runs on demand and runner facts).' }),
  }),
});

export const secretSpecs = [adminTokensSecret, githubPrivateKeySecret];
