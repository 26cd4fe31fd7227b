import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeFrom, timestampMs, type ExecutorHeartbeat } from '@runnerhub/contracts';
import { hostCapabilitiesFromMessage } from '@runnerhub/docker';
import type { Logger } from '@runnerhub/platform';
import type { HostCapacity } from './placement.js';

/**
 * Levels the reconcile loop reads: the scheduler's demand per pool and each Docker host's capacity.
 * Both are published every few seconds, so a plain subscription is enough: a lost message is only
 * a stale level until the next one.
 */

/** A host whose heartbeats stop for this long is not placed on. */
const HOST_STALE_MS = 20_000;

export interface Levels {
  pending(pool: string): number;
  /** The pool's jobs in progress, from the same snapshot as pending. */
  running(pool: string): number;
  /** When the snapshot that pending and running come from arrived (epoch when none has yet). */
  demandReceivedAt(): Date;
  hosts(): HostCapacity[];
  stop(): void;
}

/** The host's platform and runtimes from its heartbeat; nothing from an executor that does not report them. */
function capabilitiesOf(beat: ExecutorHeartbeat): Pick<HostCapacity, 'platform' | 'runtimes'> {
  if (!beat.capabilities) return {};
  const c = hostCapabilitiesFromMessage(beat.capabilities);
  return { platform: { os: c.os, architecture: c.architecture }, runtimes: c.runtimes };
}

const platformKey = (beat: ExecutorHeartbeat): string => JSON.stringify(capabilitiesOf(beat));

export function watchLevels(nc: NatsConnection, log: Logger, onChange: () => void): Levels {
  const pending = new Map<string, number>();
  const running = new Map<string, number>();
  let demandReceivedAt = new Date(0);
  const beats = new Map<string, { beat: ExecutorHeartbeat; at: number }>();
  const subscriptions: Subscription[] = [];
  const follow = (subject: string, handle: (subject: string, data: Uint8Array) => void): void => {
    const sub = nc.subscribe(subject);
    subscriptions.push(sub);
    void (async () => {
      for await (const m of sub) {
        try {
          handle(m.subject, m.data);
        } catch (err) {
          log.warn({ subject: m.subject, err: (err as Error).message }, 'undecodable level message ignored');
        }
      }
    })();
  };
  follow('pool.demand', (subject, data) => {
    const snapshot = decodeFrom('pool.demand', subject, data);
    pending.clear();
    running.clear();
    demandReceivedAt = new Date();
    for (const p of snapshot.pools) {
      running.set(p.pool, p.running);
      const byClass = p.pending;
      pending.set(p.pool, (byClass?.critical ?? 0) + (byClass?.high ?? 0) + (byClass?.normal ?? 0) + (byClass?.low ?? 0));
    }
    onChange();
  });
  follow('executor.heartbeat.*', (subject, data) => {
    const beat = decodeFrom('executor.heartbeat.*', subject, data);
    const before = beats.get(beat.host)?.beat;
    beats.set(beat.host, { beat, at: Date.now() });
    // A new host, or one whose platform or runtimes changed (labels and placement follow them).
    if (!before || platformKey(before) !== platformKey(beat)) onChange();
  });
  return {
    pending: (pool) => pending.get(pool) ?? 0,
    running: (pool) => running.get(pool) ?? 0,
    demandReceivedAt: () => demandReceivedAt,
    hosts: () =>
      [...beats.values()].map(({ beat, at }) => ({
        host: beat.host,
        healthy: Date.now() - at < HOST_STALE_MS && (beat.sentAt ? Date.now() - timestampMs(beat.sentAt) < HOST_STALE_MS * 3 : true),
        draining: beat.draining,
        labels: beat.labels,
        cpus: beat.cpus,
        reservedCpus: beat.reservedCpus,
        usedCpus: beat.usedCpus,
        memoryBytes: Number(beat.memoryBytes),
        reservedMemoryBytes: Number(beat.reservedMemoryBytes),
        usedMemoryBytes: Number(beat.usedMemoryBytes),
        running: beat.runningContainers,
        maxContainers: beat.maxContainers,
        images: new Set(beat.images),
        ...capabilitiesOf(beat),
      })),
    stop: () => subscriptions.forEach((s) => s.unsubscribe()),
  };
}
