import { HostRefusalReason } from '@runnerhub/contracts';
import { ASSUMED_PLATFORM, type RunnerPlatform } from '@runnerhub/github';

/**
 * Which Docker host takes a new runner: one that is healthy, not draining, can run the pool's runners
 * at all (the architecture and OS its labels name, the runtime it needs), carries every label of the
 * pool's host selector, and has room within its budget after the reserve for the host itself.
 * Among those, hosts that already have the image first (no pull), then pack (fill the fullest) or
 * spread (the emptiest) per pool. Every host passed over says why, as a typed refusal.
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
  /**
   * The host's OS and architecture as GitHub names them, from its heartbeat's capabilities; absent
   * from an executor older than them, which is taken to be Linux X64 (ASSUMED_PLATFORM).
   */
  platform?: RunnerPlatform;
  /** Registered container runtimes; absent when not reported (then not checked: Docker will say). */
  runtimes?: readonly string[];
}

export interface RunnerNeeds {
  cpus: number;
  memoryBytes: number;
  image: string;
  hostSelector: Readonly<Record<string, string>>;
  policy: 'pack' | 'spread';
  /** GitHub's architecture label the pool's runners must carry (`ARM64`), when its labels name one. */
  architecture?: string | null;
  /** GitHub's OS label the pool's labels name (`Linux`). */
  os?: string | null;
  /** A runtime the pool's runners need (`sysbox-runc` for dockerInJob: sysbox). */
  runtime?: string | null;
}

export interface Refusal {
  host: string;
  reason: HostRefusalReason;
  /** What the pool needs that the host lacks ("ARM64", "sysbox-runc", "app=web", "1 CPUs"). */
  needed: string;
  /** What the host has instead. */
  has: string;
}

export type Placement = { host: string } | { host: null; reason: string; refusals: Refusal[] };

/** Refusals no waiting fixes: the host can never run this pool's runners as it is. */
export const CAPABILITY_REFUSALS: ReadonlySet<HostRefusalReason> = new Set([HostRefusalReason.ARCHITECTURE, HostRefusalReason.OS, HostRefusalReason.RUNTIME]);

export function platformOf(h: Pick<HostCapacity, 'platform'>): RunnerPlatform {
  return h.platform ?? ASSUMED_PLATFORM;
}

const same = (a: string | null | undefined, b: string | null | undefined) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

function freeShare(h: HostCapacity): number {
  const cpuFree = (h.cpus - h.reservedCpus - h.usedCpus) / Math.max(h.cpus - h.reservedCpus, 1e-9);
  const memFree = (h.memoryBytes - h.reservedMemoryBytes - h.usedMemoryBytes) / Math.max(h.memoryBytes - h.reservedMemoryBytes, 1);
  return Math.min(cpuFree, memFree);
}

/** Whether the host could ever run the pool's runners (architecture, OS, runtime), room aside. */
export function capabilityRefusal(h: HostCapacity, needs: Pick<RunnerNeeds, 'architecture' | 'os' | 'runtime'>): Refusal | undefined {
  const platform = platformOf(h);
  if (needs.architecture && !same(platform.architecture, needs.architecture)) {
    return { host: h.host, reason: HostRefusalReason.ARCHITECTURE, needed: needs.architecture, has: platform.architecture ?? 'an architecture GitHub has no label for' };
  }
  if (needs.os && !same(platform.os, needs.os)) return { host: h.host, reason: HostRefusalReason.OS, needed: needs.os, has: platform.os ?? 'an unknown OS' };
  if (needs.runtime && h.runtimes && !h.runtimes.includes(needs.runtime)) {
    return { host: h.host, reason: HostRefusalReason.RUNTIME, needed: needs.runtime, has: h.runtimes.join(', ') || 'no runtime' };
  }
  return undefined;
}

/** The host selector and capabilities, which no amount of waiting changes. */
export function canEverServe(h: HostCapacity, needs: Pick<RunnerNeeds, 'architecture' | 'os' | 'runtime' | 'hostSelector'>): boolean {
  return capabilityRefusal(h, needs) === undefined && Object.entries(needs.hostSelector).every(([k, v]) => h.labels[k] === v);
}

export function refusalOf(h: HostCapacity, needs: RunnerNeeds): Refusal | undefined {
  const refuse = (reason: HostRefusalReason, needed: string, has: string): Refusal => ({ host: h.host, reason, needed, has });
  if (!h.healthy) return refuse(HostRefusalReason.NO_HEARTBEAT, 'a heartbeat', 'none lately');
  if (h.draining) return refuse(HostRefusalReason.DRAINING, 'not draining', 'draining');
  const capability = capabilityRefusal(h, needs);
  if (capability) return capability;
  const missing = Object.entries(needs.hostSelector).filter(([k, v]) => h.labels[k] !== v);
  if (missing.length > 0) return refuse(HostRefusalReason.HOST_SELECTOR, missing.map(([k, v]) => `${k}=${v}`).join(', '), Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(', '));
  if (h.running >= h.maxContainers) return refuse(HostRefusalReason.AT_MAX_CONTAINERS, `room for 1 more container`, `its maximum of ${h.maxContainers}`);
  if (h.usedCpus + needs.cpus > h.cpus - h.reservedCpus + 1e-9) return refuse(HostRefusalReason.NO_CPU_ROOM, `${needs.cpus} CPUs`, `${Math.max(0, h.cpus - h.reservedCpus - h.usedCpus).toFixed(2)} free`);
  if (h.usedMemoryBytes + needs.memoryBytes > h.memoryBytes - h.reservedMemoryBytes) {
    return refuse(HostRefusalReason.NO_MEMORY_ROOM, `${mib(needs.memoryBytes)} MiB`, `${mib(Math.max(0, h.memoryBytes - h.reservedMemoryBytes - h.usedMemoryBytes))} MiB free`);
  }
  return undefined;
}

/** One host's refusal in words, as the pool's last error has always said it. */
export function refusalText(r: Refusal): string {
  switch (r.reason) {
    case HostRefusalReason.NO_HEARTBEAT:
      return `${r.host}: no heartbeat`;
    case HostRefusalReason.DRAINING:
      return `${r.host}: draining`;
    case HostRefusalReason.ARCHITECTURE:
      return `${r.host}: is ${r.has}, the pool needs ${r.needed}`;
    case HostRefusalReason.OS:
      return `${r.host}: runs ${r.has}, the pool needs ${r.needed}`;
    case HostRefusalReason.RUNTIME:
      return `${r.host}: lacks the ${r.needed} runtime (has ${r.has})`;
    case HostRefusalReason.HOST_SELECTOR:
      return `${r.host}: lacks label ${r.needed}`;
    case HostRefusalReason.AT_MAX_CONTAINERS:
      return `${r.host}: at ${r.has} containers`;
    case HostRefusalReason.NO_CPU_ROOM:
    case HostRefusalReason.NO_MEMORY_ROOM:
      return `${r.host}: needs ${r.needed}, ${r.has}`;
    default:
      return `${r.host}: refused`;
  }
}

export function whyNot(h: HostCapacity, needs: RunnerNeeds): string | undefined {
  const refusal = refusalOf(h, needs);
  return refusal && refusalText(refusal);
}

const mib = (bytes: number): number => Math.floor(bytes / (1024 * 1024));

export function placeRunner(hosts: readonly HostCapacity[], needs: RunnerNeeds): Placement {
  const fitting = hosts.filter((h) => refusalOf(h, needs) === undefined);
  if (fitting.length === 0) {
    if (hosts.length === 0) return { host: null, reason: 'no Docker host has reported (is a container-executor running?)', refusals: [] };
    const refusals = hosts.map((h) => refusalOf(h, needs)!);
    // The scheduler's `why` words capability refusals for the person who must act ("no host with ARM64").
    if (refusals.every((r) => CAPABILITY_REFUSALS.has(r.reason))) return { host: null, reason: `no host can run this pool's runners: ${refusals.map(refusalText).join('; ')}`, refusals };
    return { host: null, reason: `no host has room: ${refusals.map(refusalText).join('; ')}`, refusals };
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
