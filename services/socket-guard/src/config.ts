import { Type } from '@sinclair/typebox';
import { adminTokensSecret, env, httpConfig, logConfig, shutdownConfig, telemetryConfig } from '@runnerhub/platform';

/** Every variable socket-guard reads; docs/configuration.md is generated from this schema. */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('socket-guard'),
  http: httpConfig(8086),
  guard: Type.Object({
    host: env.string('SOCKET_GUARD_HOST', {
      default: '127.0.0.1',
      description: "Address the guarded Docker API listens on (the executor's DOCKER_HOST). 0.0.0.0 only on a network nothing but the executor joins (docker-compose.yml: docker-api).",
    }),
    port: env.integer('SOCKET_GUARD_PORT', { default: 2375, minimum: 1, maximum: 65535, description: 'Port of the guarded Docker API.' }),
    dockerSocket: env.string('SOCKET_GUARD_DOCKER_SOCKET', { default: '/var/run/docker.sock', description: 'The Docker socket the guard forwards allowed calls to; nothing else should reach it.' }),
    deployments: env.list('SOCKET_GUARD_DEPLOYMENTS', {
      default: ['runnerhub'],
      description:
        "Deployment ids (the executor's DEPLOYMENT_ID) whose containers and networks the guard lets the executor create and touch; everything else on the host is refused. `*` takes any RunnerHub deployment's objects: for a machine that runs only RunnerHub's test suites (scripts/infra.sh), never for a NAS.",
    }),
    namePrefix: env.string('SOCKET_GUARD_NAME_PREFIX', { default: 'rh-', description: 'Container and network names must start with it (runner names are rh-<pool>-<id>).' }),
    images: env.list('SOCKET_GUARD_IMAGES', {
      default: ['ghcr.io/actions/actions-runner:*', 'runnerhub/*'],
      description: 'Images that may be pulled and run, as references with `*` for any characters (a reference without a tag means :latest). Name every image your pools use; an image import (fromSrc) is never allowed.',
    }),
    volumes: env.list('SOCKET_GUARD_VOLUMES', {
      default: ['rh-*'],
      description: 'Named volumes a runner may mount (pool cacheVolumes), same patterns; host paths and other volumes are refused.',
    }),
    sudoPools: env.list('SOCKET_GUARD_SUDO_POOLS', {
      default: [],
      description: 'Pools allowed the sudo spec (sudo: true in pools.yaml: SUDO_CAPABILITIES kept, no no-new-privileges); `*` for any. Other pools get no added capability.',
    }),
    jobEndpoints: env.boolean('SOCKET_GUARD_JOB_ENDPOINTS', {
      default: false,
      description:
        "Serve a job-scoped Docker endpoint to every runner of a dockerInJob: scoped pool of these deployments (a unix socket in the runner's own volume; docs/security.md#docker-in-jobs). The guard must then see Docker's volume directory at the path Docker reports (on the host, or /var/lib/docker/volumes mounted at the same path).",
    }),
    bodyLimitBytes: env.integer('SOCKET_GUARD_BODY_LIMIT_BYTES', { default: 1024 * 1024, minimum: 1024, description: 'Largest create body the guard reads (a runner spec is a few KiB); larger ones get 413.' }),
  }),
});

export const secretSpecs = [adminTokensSecret];
