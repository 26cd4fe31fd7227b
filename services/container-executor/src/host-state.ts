import { create, timestampNow, ExecutorHeartbeatSchema, InventoryResponseSchema, type ExecutorHeartbeat, type InventoryResponse } from '@runnerhub/contracts';
import { deploymentFilter, hostCapabilitiesToMessage, LABEL } from '@runnerhub/docker';
import type Docker from 'dockerode';
import type { HostCapabilitiesReader } from './host-capabilities.js';

/** What this host has and holds: the heartbeat for placement and the inventory for orphan sweeps. */

export interface HostSettings {
  host: string;
  deploymentId: string;
  instanceId: string;
  startedAt: Date;
  reservedCpus: number;
  reservedMemoryBytes: number;
  maxContainers: number;
  labels: Record<string, string>;
  draining: () => boolean;
}

function ourFilter(s: HostSettings): { label: string[] } {
  return { label: [...deploymentFilter(s.deploymentId).label, `${LABEL.host}=${s.host}`] };
}

export async function heartbeat(docker: Docker, s: HostSettings, host: HostCapabilitiesReader): Promise<ExecutorHeartbeat> {
  const [{ info, capabilities }, running, images] = await Promise.all([
    host.read(),
    docker.listContainers({ filters: { ...ourFilter(s), status: ['running'] } }),
    docker.listImages(),
  ]);
  // Limits ride on labels: the list API does not return HostConfig limits.
  const usedCpus = running.reduce((sum, c) => sum + (Number(c.Labels[LABEL.cpus]) || 0), 0);
  const usedMemory = running.reduce((sum, c) => sum + (Number(c.Labels[LABEL.memoryBytes]) || 0), 0);
  return create(ExecutorHeartbeatSchema, {
    host: s.host,
    deploymentId: s.deploymentId,
    instanceId: s.instanceId,
    sentAt: timestampNow(),
    startedAt: { seconds: BigInt(Math.floor(s.startedAt.getTime() / 1000)), nanos: 0 },
    cpus: info.NCPU ?? 0,
    memoryBytes: BigInt(info.MemTotal ?? 0),
    reservedCpus: s.reservedCpus,
    reservedMemoryBytes: BigInt(s.reservedMemoryBytes),
    usedCpus,
    usedMemoryBytes: BigInt(usedMemory),
    runningContainers: running.length,
    maxContainers: s.maxContainers,
    images: images.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    labels: s.labels,
    draining: s.draining(),
    dockerVersion: info.ServerVersion ?? '',
    capabilities: hostCapabilitiesToMessage(capabilities),
  });
}

export async function inventory(docker: Docker, s: HostSettings, requestId: string): Promise<InventoryResponse> {
  const containers = await docker.listContainers({ all: true, filters: ourFilter(s) });
  return create(InventoryResponseSchema, {
    requestId,
    host: s.host,
    deploymentId: s.deploymentId,
    takenAt: timestampNow(),
    containers: containers.map((c) => ({
      containerId: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      runnerId: c.Labels[LABEL.runnerId] ?? '',
      pool: c.Labels[LABEL.pool] ?? '',
      jobId: BigInt(/^\d+$/.test(c.Labels[LABEL.jobId] ?? '') ? c.Labels[LABEL.jobId]! : 0),
      state: c.State,
      createdAt: { seconds: BigInt(c.Created), nanos: 0 },
    })),
  });
}

/** `EXECUTOR_LABELS` entries `key=value` into a map; a bare key means "true". */
export function parseHostLabels(entries: readonly string[]): Record<string, string> {
  return Object.fromEntries(entries.map((e) => {
    const at = e.indexOf('=');
    return at < 0 ? [e.trim(), 'true'] : [e.slice(0, at).trim(), e.slice(at + 1).trim()];
  }));
}
