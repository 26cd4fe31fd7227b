import {
  create,
  HostCapabilitiesSchema,
  RunnerArchitecture as ArchitectureMessage,
  RunnerOs as OsMessage,
  type HostCapabilities as HostCapabilitiesMessage,
} from '@runnerhub/contracts';
import type { HostCapabilities, RunnerArchitecture, RunnerOs } from './host-capabilities.js';

/**
 * HostCapabilities as they travel in `executor.heartbeat.<host>` (proto runnerhub.v1.HostCapabilities)
 * and back: the executor sends what it read, placement and labels read what a host can do.
 */

const ARCHITECTURES: Record<RunnerArchitecture, ArchitectureMessage> = {
  X64: ArchitectureMessage.X64,
  ARM64: ArchitectureMessage.ARM64,
  ARM: ArchitectureMessage.ARM,
};
const OSES: Record<RunnerOs, OsMessage> = { Linux: OsMessage.LINUX, Windows: OsMessage.WINDOWS, macOS: OsMessage.MACOS };

function reverse<K extends string, V>(map: Record<K, V>, value: V): K | null {
  return (Object.keys(map) as K[]).find((k) => map[k] === value) ?? null;
}

export function hostCapabilitiesToMessage(host: HostCapabilities): HostCapabilitiesMessage {
  return create(HostCapabilitiesSchema, {
    ...host,
    os: host.os ? OSES[host.os] : OsMessage.UNSPECIFIED,
    architecture: host.architecture ? ARCHITECTURES[host.architecture] : ArchitectureMessage.UNSPECIFIED,
    cpus: Math.max(0, Math.round(host.cpus)),
    memoryBytes: BigInt(Math.max(0, Math.floor(host.memoryBytes))),
    freeDiskBytes: host.freeDiskBytes === undefined ? undefined : BigInt(Math.max(0, Math.floor(host.freeDiskBytes))),
  });
}

export function hostCapabilitiesFromMessage(message: HostCapabilitiesMessage): HostCapabilities {
  const { $typeName: _type, $unknown: _unknown, os, architecture, memoryBytes, freeDiskBytes, ...rest } = message;
  return {
    ...rest,
    runtimes: [...rest.runtimes],
    warnings: [...rest.warnings],
    securityOptions: [...rest.securityOptions],
    os: reverse(OSES, os),
    architecture: reverse(ARCHITECTURES, architecture),
    memoryBytes: Number(memoryBytes),
    ...(freeDiskBytes === undefined ? {} : { freeDiskBytes: Number(freeDiskBytes) }),
  };
}
