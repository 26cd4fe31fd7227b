import { Type } from '@sinclair/typebox';
import { githubConfig, githubPrivateKeySecret } from '@runnerhub/github';
import { adminTokensSecret, env, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig, postgresConfig, redisConfig, retentionConfig } from '@runnerhub/platform';

/** Every variable scheduler reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('scheduler'),
  http: httpConfig(8081),
  nats: natsConfig(),
  postgres: postgresConfig(),
  retention: retentionConfig(),
  redis: redisConfig(),
  github: githubConfig(),
  scheduling: Type.Object({
    rulesFile: env.optionalString('SCHEDULER_RULES_FILE', {
      description: 'YAML file with priority rules (repository, workflow, branch → critical, high, normal, low) and per-repository and per-organization caps (docs/scheduling.md). None: every job is normal, no caps.',
    }),
    reconcileSeconds: env.integer('SCHEDULER_RECONCILE_SECONDS', {
      default: 300,
      minimum: 10,
      maximum: 86_400,
      description: "Period of the missed-job reconciler (also at start, on one replica at a time): GitHub's queued runs and jobs of every repository a pool serves are compared with ours. Needs the GitHub App.",
    }),
    reconcileMaxChecks: env.integer('SCHEDULER_RECONCILE_MAX_CHECKS', {
      default: 100,
      minimum: 0,
      maximum: 10_000,
      description: 'Waiting jobs the reconciler asks GitHub about one by one per cycle (those no run list showed), oldest check first.',
    }),
    stuckCheckSeconds: env.integer('SCHEDULER_STUCK_CHECK_SECONDS', {
      default: 30,
      minimum: 1,
      maximum: 3600,
      description: "How often waiting jobs are compared with their pool's expected start time; a job past it for a reason other than a full pool, a cap or a drain gets one job.stuck fact.",
    }),
  }),
});

export const secretSpecs = [adminTokensSecret, githubPrivateKeySecret];
