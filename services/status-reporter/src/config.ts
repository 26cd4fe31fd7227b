import { Type } from '@sinclair/typebox';
import { githubConfig, githubPrivateKeySecret } from '@runnerhub/github';
import { adminTokensSecret, env, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig, postgresConfig, redisConfig, retentionConfig } from '@runnerhub/platform';

/** Every variable status-reporter reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('status-reporter'),
  http: httpConfig(8084),
  nats: natsConfig(),
  postgres: postgresConfig(),
  retention: retentionConfig(),
  redis: redisConfig(),
  github: githubConfig(),
  reporting: Type.Object({
    checkRuns: env.boolean('REPORTER_CHECK_RUNS', {
      default: true,
      description: 'Check runs for jobs no pool can serve, stuck jobs and runners that failed to start. A pool can still turn them off (pool option checkRuns).',
    }),
    jobReports: env.boolean('REPORTER_JOB_REPORTS', {
      default: true,
      description: 'Allow per-job reports (queue and run time, host, CPU, memory) for pools that ask for them (pool option jobReports, off by default). false turns them off everywhere.',
    }),
    disabledInstallations: env.list('REPORTER_DISABLED_INSTALLATIONS', {
      default: [],
      description: 'GitHub App installation ids (comma-separated) that get no check runs at all.',
    }),
    failedMaxJobs: env.integer('REPORTER_FAILED_MAX_JOBS', {
      default: 20,
      minimum: 1,
      maximum: 500,
      description: 'A runner that failed to start is reported on the waiting jobs of its pool, the oldest first, at most this many.',
    }),
    sendTimeoutSeconds: env.integer('REPORTER_SEND_TIMEOUT_SECONDS', {
      default: 30,
      minimum: 1,
      maximum: 300,
      description: "Longest time the GitHub calls for one report may take; a report whose sender died mid-call is taken up again after three times this plus 5 s (its claim expires), by any replica.",
    }),
    maxAttempts: env.integer('REPORTER_MAX_ATTEMPTS', {
      default: 8,
      minimum: 1,
      maximum: 100,
      description: 'Failed GitHub attempts (5xx, network) before a report is marked failed; POST /api/reports/{id}/retry sends it again. Rate-limit waits do not count.',
    }),
    maxRateWaitSeconds: env.integer('REPORTER_MAX_RATE_WAIT_SECONDS', {
      default: 60,
      minimum: 1,
      maximum: 3600,
      description: 'When the rate budget is spent, look again at most this often (the shared budget in Redis answers without calling GitHub).',
    }),
  }),
});

export const secretSpecs = [adminTokensSecret, githubPrivateKeySecret];
