import { Type } from '@sinclair/typebox';
import { env } from './config.js';

/**
 * Configuration groups shared by services. A service composes the groups it needs with its own in
 * one schema, so its config object reads `config.nats.url`, `config.http.port`, ...
 */

export const logConfig = () =>
  Type.Object({
    level: env.enum('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, {
      default: 'info',
      description: 'Lowest log level written.',
    }),
  });

export const httpConfig = (defaultPort: number) =>
  Type.Object({
    host: env.string('HTTP_HOST', { default: '0.0.0.0', description: 'Address the HTTP server listens on.' }),
    port: env.integer('HTTP_PORT', { default: defaultPort, minimum: 1, maximum: 65535, description: 'Port of /healthz, /readyz, /metrics and the admin API.' }),
  });

export const shutdownConfig = () =>
  Type.Object({
    timeoutMs: env.integer('SHUTDOWN_TIMEOUT_MS', {
      default: 25_000,
      minimum: 1000,
      description: 'Deadline for a graceful stop after SIGTERM; keep it below the orchestrator\'s kill timeout (compose: stop_grace_period, 30 s here).',
    }),
  });

export const natsConfig = () =>
  Type.Object({
    url: env.string('NATS_URL', { default: 'nats://127.0.0.1:4222', description: 'NATS server(s), comma-separated; JetStream must be enabled.' }),
    tls: Type.Object({
      caFile: env.optionalString('NATS_TLS_CA_FILE', {
        description: "PEM file of the CA that signed the NATS server's certificate. Set: the connection is TLS and the server must prove it (needed when an executor on another host reaches NATS over the network).",
      }),
      certFile: env.optionalString('NATS_TLS_CERT_FILE', {
        description: "PEM client certificate (with NATS_TLS_KEY_FILE): the service's identity when the server maps certificates to users (verify_and_map) and their permissions.",
      }),
      keyFile: env.optionalString('NATS_TLS_KEY_FILE', { description: 'PEM private key of NATS_TLS_CERT_FILE.' }),
    }),
  });

export const postgresConfig = () =>
  Type.Object({
    url: env.url('DATABASE_URL', {
      protocols: ['postgres', 'postgresql'],
      default: 'postgres://runnerhub:runnerhub@127.0.0.1:5432/runnerhub',
      description: 'PostgreSQL connection URL; each service uses its own schema in this database.',
    }),
    poolMax: env.integer('DATABASE_POOL_MAX', { default: 5, minimum: 1, maximum: 100, description: 'Largest number of connections this service opens.' }),
  });

export const retentionConfig = () =>
  Type.Object({
    days: env.integer('RETENTION_DAYS', {
      default: 30,
      minimum: 7,
      maximum: 3650,
      description:
        "Days the history of a finished job (its deliveries, job row, runners, reports) is kept before it is deleted (checked hourly). At least 7: GitHub redelivers events up to 3 days old, and a redelivered event must still find its job.",
    }),
  });

export const redisConfig = () =>
  Type.Object({
    url: env.url('REDIS_URL', { protocols: ['redis', 'rediss'], default: 'redis://127.0.0.1:6379', description: 'Redis connection URL (shared caches and locks).' }),
  });

export const telemetryConfig = (service: string) =>
  Type.Object({
    serviceName: env.string('OTEL_SERVICE_NAME', { default: service, description: 'Service name on traces and metrics.' }),
    otlpEndpoint: env.optionalString('OTEL_EXPORTER_OTLP_ENDPOINT', {
      description: 'OTLP/HTTP collector base URL (e.g. http://otel-collector:4318). Unset: traces are not exported; /metrics still serves metrics.',
    }),
  });
