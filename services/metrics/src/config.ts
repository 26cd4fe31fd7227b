import { Type } from '@sinclair/typebox';
import { adminTokensSecret, env, httpConfig, logConfig, natsConfig, redisConfig, shutdownConfig, telemetryConfig } from '@runnerhub/platform';

/** Every variable metrics reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('metrics'),
  http: httpConfig(8085),
  nats: natsConfig(),
  redis: redisConfig(),
  metrics: Type.Object({
    repositoryLabels: env.boolean('METRICS_REPOSITORY_LABELS', {
      default: false,
      description: 'Add a `repository` label to the job metrics. One series per repository and pool: leave off for many repositories.',
    }),
    maxPipelineNames: env.integer('METRICS_MAX_PIPELINE_NAMES', {
      default: 100,
      minimum: 1,
      maximum: 10_000,
      description: 'Distinct workflow names kept as `cicd_pipeline_name` on the OpenTelemetry CI/CD metrics; later ones are counted as `other`.',
    }),
    budgetSeconds: env.integer('METRICS_GITHUB_BUDGET_SECONDS', {
      default: 15,
      minimum: 1,
      maximum: 3600,
      description: "How often the GitHub rate budget is read from Redis (the budget every service records from GitHub's x-ratelimit headers).",
    }),
  }),
});

export const secretSpecs = [adminTokensSecret];
