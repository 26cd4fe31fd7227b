/**
 * Which Docker host takes a new runner: one that is healthy, not draining, carries every label of
 * the pool's host selector, and has room within its budget after the reserve for the host itself.
 * Among those, hosts that already have the image first (no pull), then pack (fill the fullest) or
 * spread (the emptiest) per pool.
 */

export interface HostCapacity {
  host: string;
  healthy: boolean;
  draining: boolean;
  labels: Readonly<Record<string, string>>;
  cpus: number;
  reservedCpus: number;
  usedCpus: number;
  memoryBytes: number;
  reservedMemoryBytes: number;
  usedMemoryBytes: number;
  running: number;
  maxContainers: number;
  images: ReadonlySet<string>;
}

export interface RunnerNeeds {
  cpus: number;
  memoryBytes: number;
  image: string;
  hostSelector: Readonly<Record<string, string>>;
  policy: 'pack' | 'spread';
}

export type Placement = { host: string } | { host: null; reason: string };

function freeShare(h: HostCapacity): number {
  const cpuFree = (h.cpus - h.reservedCpus - h.usedCpus) / Math.max(h.cpus - h.reservedCpus, 1e-9);
  const memFree = (h.memoryBytes - h.reservedMemoryBytes - h.usedMemoryBytes) / Math.max(h.memoryBytes - h.reservedMemoryBytes, 1);
  return Math.min(cpuFree, memFree);
}

export function whyNot(h: HostCapacity, needs: RunnerNeeds): string | undefined {
  if (!h.healthy) return `${h.host}: no heartbeat`;
  if (h.draining) return `${h.host}: draining`;
  const missing = Object.entries(needs.hostSelector).filter(([k, v]) => h.labels[k] !== v);
  if (missing.length > 0) return `${h.host}: lacks label ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}`;
  if (h.running >= h.maxContainers) return `${h.host}: at its maximum of ${h.maxContainers} containers`;
  if (h.usedCpus + needs.cpus > h.cpus - h.reservedCpus + 1e-9) return `${h.host}: needs ${needs.cpus} CPUs, ${Math.max(0, h.cpus - h.reservedCpus - h.usedCpus).toFixed(2)} free`;
  if (h.usedMemoryBytes + needs.memoryBytes > h.memoryBytes - h.reservedMemoryBytes) {
    return `${h.host}: needs ${mib(needs.memoryBytes)} MiB, ${mib(Math.max(0, h.memoryBytes - h.reservedMemoryBytes - h.usedMemoryBytes))} MiB free`;
  }
  return undefined;
}

const mib = (bytes: number): number => Math.floor(bytes / (1024 * 1024));

export function placeRunner(hosts: readonly HostCapacity[], needs: RunnerNeeds): Placement {
  const fitting = hosts.filter((h) => whyNot(h, needs) === undefined);
  if (fitting.length === 0) {
    if (hosts.length === 0) return { host: null, reason: 'no Docker host has reported (is a container-executor running?)' };
    return { host: null, reason: `no host has room: ${hosts.map((h) => whyNot(h, needs)).join('; ')}` };
  }
  const sign = needs.policy === 'pack' ? 1 : -1;
  const best = [...fitting].sort(
    (a, b) =>
      Number(b.images.has(needs.image)) - Number(a.images.has(needs.image)) ||
      sign * (freeShare(a) - freeShare(b)) ||
      a.host.localeCompare(b.host),
  )[0]!;
  return { host: best.host };
}

/** The host's capacity after placing a runner there: placements within one pass see each other. */
export function reserve(h: HostCapacity, needs: RunnerNeeds): HostCapacity {
  return { ...h, usedCpus: h.usedCpus + needs.cpus, usedMemoryBytes: h.usedMemoryBytes + needs.memoryBytes, running: h.running + 1 };
}

/** What this pool-manager has placed on a host and not yet seen end: live runner rows, by host. */
export interface OwnUsage {
  host: string;
  cpus: number;
  memoryBytes: number;
  runners: number;
}

/**
 * A heartbeat only counts containers that exist; runners asked for since (being registered, being
 * created) are not in it yet, and a pass a second later would place on the same room again. The
 * larger of the heartbeat and our own live rows is what is used.
 */
export function withOwnRunners(hosts: readonly HostCapacity[], own: readonly OwnUsage[]): HostCapacity[] {
  return hosts.map((h) => {
    const mine = own.find((o) => o.host === h.host);
    if (!mine) return h;
    return { ...h, usedCpus: Math.max(h.usedCpus, mine.cpus), usedMemoryBytes: Math.max(h.usedMemoryBytes, mine.memoryBytes), running: Math.max(h.running, mine.runners) };
  });
}
