import { Type } from '@sinclair/typebox';
import { githubConfig, githubPrivateKeySecret } from '@runnerhub/github';
import { adminTokensSecret, env, httpConfig, logConfig, natsConfig, postgresConfig, redisConfig, retentionConfig, shutdownConfig, telemetryConfig } from '@runnerhub/platform';

/** GitHub does not deliver payloads larger than 25 MB, so a larger limit would only invite abuse. */
const GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

/** Every variable webhook-gateway reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('webhook-gateway'),
  http: httpConfig(8080),
  nats: natsConfig(),
  postgres: postgresConfig(),
  retention: retentionConfig(),
  redis: redisConfig(),
  webhook: Type.Object({
    bodyLimitBytes: env.integer('WEBHOOK_BODY_LIMIT_BYTES', {
      default: 1024 * 1024,
      minimum: 1024,
      maximum: GITHUB_MAX_PAYLOAD_BYTES,
      description: 'Largest webhook body accepted (413 above it). workflow_job payloads are a few KB; GitHub caps payloads at 25 MB.',
    }),
  }),
  source: Type.Object({
    allowlist: env.enum('GATEWAY_SOURCE_ALLOWLIST', ['off', 'github'] as const, {
      default: 'off',
      description: "github: accept webhook requests only from GitHub's hooks ranges (GET /meta, refreshed hourly); 403 otherwise. GitHub does not recommend IP allowlists; the signature check is the real guard.",
    }),
    trustedProxies: env.list('GATEWAY_TRUSTED_PROXIES', {
      default: [],
      description: 'CIDRs of reverse proxies in front of the gateway (e.g. 172.16.0.0/12); their X-Forwarded-For names the client.',
    }),
  }),
  github: githubConfig(),
  scaleSets: Type.Object({
    retryMaxSeconds: env.integer('GATEWAY_SCALESET_RETRY_MAX_SECONDS', {
      default: 30,
      minimum: 1,
      maximum: 600,
      description:
        "Longest wait of the scale-set listener between two session attempts while GitHub answers 409 (a killed listener's session lingers about a minute), and after a failed poll; waits start at 1 s and double.",
    }),
    pollTimeoutSeconds: env.integer('GATEWAY_SCALESET_POLL_TIMEOUT_SECONDS', {
      default: 90,
      minimum: 5,
      maximum: 600,
      description: 'A long poll of the scale-set message queue that has not answered after this long is given up and sent again (GitHub answers an empty one after about 50 s).',
    }),
  }),
  redelivery: Type.Object({
    intervalSeconds: env.integer('GATEWAY_REDELIVERY_INTERVAL_SECONDS', {
      default: 300,
      minimum: 1,
      maximum: 86_400,
      description: 'How often the redelivery reconciler scans GitHub for deliveries that never reached us (one replica at a time; also at start).',
    }),
    maxPerCycle: env.integer('GATEWAY_REDELIVERY_MAX_PER_CYCLE', {
      default: 100,
      minimum: 1,
      maximum: 5000,
      description: 'Most redeliveries requested per reconciler cycle; the rest wait for the next one.',
    }),
  }),
});

export const secretSpecs = [
  adminTokensSecret,
  githubPrivateKeySecret,
  { name: 'GITHUB_WEBHOOK_SECRET', required: true, description: "The GitHub App's webhook secret; every delivery's X-Hub-Signature-256 is checked against it." },
  {
    name: 'GITHUB_WEBHOOK_SECRET_PREVIOUS',
    required: false,
    description: 'During a secret rotation only: the old secret, still accepted until GitHub sends with the new one. Remove it when the rotation is done.',
  },
];
