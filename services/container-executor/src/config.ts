import { Type } from '@sinclair/typebox';
import { adminTokensSecret, httpConfig, logConfig, natsConfig, shutdownConfig, telemetryConfig, env } from '@runnerhub/platform';
import type { SecretSpec } from '@runnerhub/secrets';
import { hostname } from 'node:os';

/** Every variable container-executor reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('container-executor'),
  http: httpConfig(8083),
  nats: natsConfig(),
  executor: Type.Object({
    hostId: env.string('EXECUTOR_HOST_ID', {
      default: hostname().split('.')[0]!.replace(/[^A-Za-z0-9_-]/g, '-'),
      defaultText: 'the machine\'s hostname',
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'Name of this Docker host in subjects (cmd.executor.<host>.*); letters, digits, - and _ only.',
    }),
    deploymentId: env.string('DEPLOYMENT_ID', {
      default: 'runnerhub',
      pattern: '^[A-Za-z0-9_.-]+$',
      description: 'Names this RunnerHub installation in container labels; the executor only ever touches containers that carry it.',
    }),
    reservedCpus: env.integer('EXECUTOR_RESERVED_CPUS', { default: 1, minimum: 0, description: 'CPUs kept free for the host itself (the NAS); placement never plans them.' }),
    reservedMemoryMb: env.integer('EXECUTOR_RESERVED_MEMORY_MB', { default: 2048, minimum: 0, description: 'Memory (MiB) kept free for the host itself.' }),
    createConcurrency: env.integer('EXECUTOR_CREATE_CONCURRENCY', {
      default: 4,
      minimum: 1,
      maximum: 32,
      description: 'Create commands handled at once (image pulls, container creates); more is faster on a strong host, harder on a NAS disk.',
    }),
    maxContainers: env.integer('EXECUTOR_MAX_CONTAINERS', { default: 8, minimum: 1, description: 'Most runner containers this host runs at once.' }),
    labels: env.list('EXECUTOR_LABELS', { default: [], description: 'Host labels as key=value pairs (comma-separated), matched against a pool\'s host selector.' }),
    heartbeatSeconds: env.integer('EXECUTOR_HEARTBEAT_SECONDS', { default: 5, minimum: 1, maximum: 60, description: 'How often the host reports its capacity.' }),
    runnerUid: env.integer('EXECUTOR_RUNNER_UID', { default: 1001, minimum: 0, description: 'User id of the runner inside the image (1001 in ghcr.io/actions/actions-runner); owns the JIT config file.' }),
    earlyExitSeconds: env.integer('EXECUTOR_EARLY_EXIT_SECONDS', { default: 30, minimum: 0, description: 'A runner that exits sooner than this is reported with its last log lines, like a non-zero exit.' }),
    strayNetworkSeconds: env.integer('EXECUTOR_STRAY_NETWORK_SECONDS', {
      default: 120,
      minimum: 1,
      description: "A runner's own network whose container is gone is removed once older than this (a create in progress is younger).",
    }),
    spareNetworks: env.integer('EXECUTOR_SPARE_NETWORKS', {
      // As many as creates run at once: a burst of cold starts never waits for a network.
      default: 4,
      minimum: 0,
      maximum: 16,
      description: "Runner networks made ahead of need, so a new runner does not wait for Docker to create its own (0.2–0.5 s of a cold start); each holds one of the host's bridge address pools. 0 turns it off.",
    }),
    dockerInfoFile: env.optionalString('EXECUTOR_DOCKER_INFO_FILE', {
      description:
        "A recorded `docker info --format '{{json .}}'` of another host whose fields replace this engine's for what the host can enforce and run (CFS quota, pids, runtimes, architecture): runner specs, placement and labels then follow that host. For trying a NAS's answer on another machine (tests, support); unset on a real host.",
    }),
    runnerSecrets: env.list('EXECUTOR_RUNNER_SECRETS', {
      default: [],
      description: 'Secret names pools may hand to runners as environment variables (secret env references); anything else is refused.',
    }),
  }),
  docker: Type.Object({
    host: env.string('DOCKER_HOST', {
      default: 'tcp://127.0.0.1:2375',
      pattern: '^(tcp|unix)://.+',
      description: 'The Docker socket proxy (tcp://host:port); unix:///path reaches a socket directly (development only).',
    }),
    idleTimeoutSeconds: env.integer('DOCKER_IDLE_TIMEOUT_SECONDS', {
      default: 120,
      minimum: 1,
      maximum: 3600,
      description:
        'A Docker call on which nothing arrives for this long is dropped and retried, so a hung proxy or daemon holds no create, removal or heartbeat for good. Streams count as live while they send (image pull progress); the event feed is renewed when it has been quiet this long.',
    }),
  }),
});

/** Secrets pools may pass to runners are declared up front (an allowlist), so libs/secrets resolves them. */
const runnerSecrets: SecretSpec[] = (process.env['EXECUTOR_RUNNER_SECRETS'] ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((name) => ({ name, required: true, description: `handed to runner containers that reference it (EXECUTOR_RUNNER_SECRETS)` }));

export const secretSpecs = [adminTokensSecret, ...runnerSecrets];
