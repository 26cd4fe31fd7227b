import { readFileSync } from 'node:fs';
import { hostCapabilitiesFrom, type DockerInfo, type DockerVersion, type HostCapabilities } from '@runnerhub/docker';
import type Docker from 'dockerode';

/**
 * What this executor's Docker host can enforce and run (libs/docker HostCapabilities), read from
 * `GET /info` on every heartbeat (so a dockerd restarted with other options, or an executor that
 * reconnects, reports afresh) and `GET /version` once. Runner specs are planned against the last
 * reading; the first create before any heartbeat reads it itself.
 *
 * EXECUTOR_DOCKER_INFO_FILE replaces what the host can do with a recorded `docker info --format
 * '{{json .}}'` (a NAS's, from libs/docker/test/hosts): its fields win over the engine's, so the
 * runner spec, placement and labels follow that host while containers still run here. The budget
 * placement counts (CPUs, memory in the heartbeat) stays the engine's own.
 */

export interface HostReading {
  capabilities: HostCapabilities;
  /** The engine's own `/info`, for the heartbeat's budget. */
  info: DockerInfo & { NCPU?: number; MemTotal?: number; ServerVersion?: string };
}

export interface HostCapabilitiesReader {
  read: () => Promise<HostReading>;
  /** The last reading's capabilities, or a fresh one when there is none yet. */
  current: () => Promise<HostCapabilities>;
}

export function readRecordedInfo(path: string): DockerInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`EXECUTOR_DOCKER_INFO_FILE ${path} is not a readable docker info JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`EXECUTOR_DOCKER_INFO_FILE ${path} is not a JSON object (docker info --format '{{json .}}')`);
  return parsed;
}

export function hostCapabilitiesReader(docker: Docker, options: { recorded?: DockerInfo } = {}): HostCapabilitiesReader {
  let version: DockerVersion | undefined;
  let last: HostCapabilities | undefined;
  const read = async (): Promise<HostReading> => {
    const [info, v] = await Promise.all([docker.info() as Promise<HostReading['info']>, version ? Promise.resolve(version) : (docker.version() as Promise<DockerVersion>)]);
    version = v;
    const capabilities = hostCapabilitiesFrom(options.recorded ? { ...info, ...options.recorded } : info, v);
    last = capabilities;
    return { capabilities, info };
  };
  return {
    read,
    current: async () => last ?? (await read()).capabilities,
  };
}
