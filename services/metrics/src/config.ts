import { Type } from '@sinclair/typebox';
import { githubConfig } from '@runnerhub/github';
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
  console: Type.Object({
    enabled: env.boolean('CONSOLE_ENABLED', { default: true, description: 'Serve the web console under /console (docs/console.md).' }),
    gatewayUrl: env.url('CONSOLE_GATEWAY_URL', { default: 'http://127.0.0.1:8080', protocols: ['http', 'https'], description: "The webhook-gateway's admin API, as the console calls it." }),
    schedulerUrl: env.url('CONSOLE_SCHEDULER_URL', { default: 'http://127.0.0.1:8081', protocols: ['http', 'https'], description: "The scheduler's admin API, as the console calls it." }),
    poolManagerUrl: env.url('CONSOLE_POOL_MANAGER_URL', { default: 'http://127.0.0.1:8082', protocols: ['http', 'https'], description: "The pool-manager's admin API, as the console calls it." }),
    executorUrl: env.url('CONSOLE_EXECUTOR_URL', { default: 'http://127.0.0.1:8083', protocols: ['http', 'https'], description: "A container-executor's admin API (its readiness and version on the Now page)." }),
    statusReporterUrl: env.url('CONSOLE_STATUS_REPORTER_URL', { default: 'http://127.0.0.1:8084', protocols: ['http', 'https'], description: "The status-reporter's admin API, as the console calls it." }),
    grafanaUrl: env.optionalString('CONSOLE_GRAFANA_URL', { description: 'Grafana, linked from the console for the time series (e.g. http://nas:3000).' }),
    publicUrl: env.optionalString('CONSOLE_PUBLIC_URL', { description: "Where browsers reach this service (https://…, the App manifest's redirect); unset: the request's Host." }),
    secureCookie: env.boolean('CONSOLE_SECURE_COOKIE', { default: false, description: 'Mark the session cookie Secure (set it when the console is served over HTTPS).' }),
    secretsDir: env.optionalString('CONSOLE_SECRETS_DIR', {
      description: "Where the GitHub App setup writes the App's id, private key and webhook secret (files of mode 0600, the names of docs/security.md); unset: the setup page explains and stores nothing.",
    }),
    githubUrl: env.url('CONSOLE_GITHUB_URL', { default: 'https://github.com', protocols: ['https', 'http'], description: "GitHub's web address, where the browser takes the App manifest (https://<host> for GHES)." }),
  }),
  github: Type.Object({ apiUrl: githubConfig().properties.apiUrl }),
});

export const secretSpecs = [adminTokensSecret];
