import { Type } from '@sinclair/typebox';
import { env, logConfig, natsConfig, shutdownConfig, telemetryConfig } from '@runnerhub/platform';
import { SERVICE_NAMES } from './sections.js';

/**
 * What the all-in-one process itself reads; each service reads its own variables besides (its
 * section, see sections.ts). The NATS settings are the shared connection's: a service whose own
 * NATS settings differ (its section sets them) connects on its own.
 */
export const configSchema = Type.Object({
  log: logConfig(),
  shutdown: shutdownConfig(),
  telemetry: telemetryConfig('runnerhub-all-in-one'),
  nats: natsConfig(),
  services: env.list('ALL_IN_ONE_SERVICES', {
    default: [...SERVICE_NAMES],
    description: `The services this process runs, comma-separated, of ${SERVICE_NAMES.join(', ')}; started in that order. Leave one out to run it as its own process or on another host (an executor per Docker host, say).`,
  }),
});

export const secretSpecs = [] as const;
