import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsLog } from './connection.js';

/**
 * Singletons by election: a key in a KV bucket whose bucket-wide TTL is the lease length. Acquire is
 * a create (fails if the key exists), renewal a compare-and-set on the revision every ttl/3, so a
 * holder that stops renewing loses the key when the TTL expires it. Per-key TTLs are not used: they
 * need nats-server 2.11 and `update()` cannot renew them.
 */

export interface LeaseSettings {
  nc: NatsConnection;
  /** One bucket per lease length: the TTL is bucket-wide. Persisted name. */
  bucket: string;
  key: string;
  ttlMs: number;
  /** Unique per process (e.g. `<hostname>:<pid>:<random>`); stored as the key's value. */
  holderId: string;
  log: NatsLog;
  /** Called once each time a held lease is lost (not on release()). Stop leader-only work at once. */
  onLost?(reason: string): void;
}

export interface Lease {
  readonly key: string;
  readonly holderId: string;
  /** Resolves true when this process now holds the lease, false when another holder does; rejects
   * when NATS does not answer. */
  tryAcquire(): Promise<boolean>;
  /** True only while the lease is held and its last renewal is younger than the TTL. */
  isHeld(): boolean;
  /** The KV revision of the holder's latest write: a fencing token that only grows. Undefined when not held. */
  readonly revision: number | undefined;
  /** Aborted when the current term ends (lost or released); an aborted signal when not held. */
  signal(): AbortSignal;
  /** Gives the lease up at once (deletes the key if still ours), so another holder need not wait out the TTL. */
  release(): Promise<void>;
}

/** The local view of a term ends this long before the server can expire the key, so two holders
 * never overlap even with a little scheduling delay. */
const SAFETY_FRACTION = 0.1;

export function createLease(s: LeaseSettings): Lease {
  if (s.ttlMs < 1000) throw new Error(`lease ${s.bucket}/${s.key}: ttlMs must be at least 1000`);
  const renewEveryMs = Math.floor(s.ttlMs / 3);
  const logBase = { bucket: s.bucket, key: s.key, holderId: s.holderId };
  let kvPromise: Promise<KV> | undefined;
  let revision: number | undefined;
  let validUntil = 0;
  let term = abortedController();
  let renewTimer: NodeJS.Timeout | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let renewing = false;
  let renewWarned = false;

  const bucket = (): Promise<KV> => {
    kvPromise ??= openBucket(s);
    kvPromise.catch(() => (kvPromise = undefined));
    return kvPromise;
  };

  const endTerm = () => {
    clearInterval(renewTimer);
    clearTimeout(expiryTimer);
    renewTimer = expiryTimer = undefined;
    revision = undefined;
    validUntil = 0;
    term.abort();
  };

  const lost = (reason: string) => {
    if (revision === undefined) return;
    endTerm();
    s.log.warn({ ...logBase, reason }, 'lease lost');
    try {
      s.onLost?.(reason);
    } catch (err) {
      s.log.error({ ...logBase, err }, 'lease onLost callback failed');
    }
  };

  const wrote = (rev: number, sentAt: number) => {
    revision = rev;
    // The server expires the key ttl after it stored the write, which is no earlier than sentAt.
    validUntil = sentAt + s.ttlMs * (1 - SAFETY_FRACTION);
    clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => lost('not renewed within the TTL'), validUntil - Date.now());
  };

  const renew = async () => {
    if (renewing || revision === undefined) return;
    renewing = true;
    const sentAt = Date.now();
    try {
      const kv = await bucket();
      const rev = await kv.update(s.key, s.holderId, revision);
      if (revision === undefined) return; // released or lost meanwhile
      wrote(rev, sentAt);
      if (renewWarned) s.log.info(logBase, 'lease renewed again');
      renewWarned = false;
    } catch (err) {
      if (isWrongSequence(err)) lost('another holder took the key (or it expired)');
      else if (!renewWarned) {
        renewWarned = true;
        s.log.warn({ ...logBase, err }, 'lease renewal failed; retrying until the TTL runs out');
      }
    } finally {
      renewing = false;
    }
  };

  const begin = (rev: number, sentAt: number) => {
    term = new AbortController();
    wrote(rev, sentAt);
    renewTimer = setInterval(() => void renew(), renewEveryMs);
    s.log.info({ ...logBase, revision: rev }, 'lease acquired');
  };

  return {
    key: s.key,
    holderId: s.holderId,
    get revision() {
      return revision;
    },
    isHeld: () => revision !== undefined && Date.now() < validUntil,
    signal: () => term.signal,
    async tryAcquire() {
      if (revision !== undefined) {
        if (Date.now() < validUntil) return true;
        lost('not renewed within the TTL');
      }
      const kv = await bucket();
      const sentAt = Date.now();
      try {
        begin(await kv.create(s.key, s.holderId), sentAt);
        return true;
      } catch (err) {
        if (!isWrongSequence(err)) throw err;
      }
      // The key exists. If it names us (this holder restarted quickly), take it back by revision.
      const e = await kv.get(s.key);
      if (e?.operation !== 'PUT' || e.string() !== s.holderId) return false;
      try {
        begin(await kv.update(s.key, s.holderId, e.revision), sentAt);
        return true;
      } catch (err) {
        if (isWrongSequence(err)) return false;
        throw err;
      }
    },
    async release() {
      const rev = revision;
      if (rev === undefined) return;
      endTerm();
      try {
        const kv = await bucket();
        await kv.delete(s.key, { previousSeq: rev });
        s.log.info(logBase, 'lease released');
      } catch (err) {
        // Someone else's key now, or NATS is away: either way the TTL ends our claim.
        s.log.warn({ ...logBase, err }, 'lease release did not delete the key; it expires with the TTL');
      }
    },
  };
}

/** Opens the bucket, creating it if missing, and brings its TTL in line with this lease. */
async function openBucket(s: LeaseSettings): Promise<KV> {
  const kv = await new Kvm(s.nc).create(s.bucket, { history: 1, ttl: s.ttlMs });
  const status = await kv.status();
  if (status.ttl !== s.ttlMs || status.history !== 1) {
    s.log.warn({ bucket: s.bucket, haveTtlMs: status.ttl, wantTtlMs: s.ttlMs }, 'lease bucket had other settings; updating it');
    const jsm = await jetstreamManager(s.nc);
    await jsm.streams.update(`KV_${s.bucket}`, { max_age: nanos(s.ttlMs), max_msgs_per_subject: 1 });
  }
  return kv;
}

function isWrongSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function abortedController(): AbortController {
  const c = new AbortController();
  c.abort();
  return c;
}

export interface LeaderLoop {
  /** Stops contending, aborts the running work, waits for it, and releases the lease. */
  stop(): Promise<void>;
}

export interface LeaderLoopSettings {
  /** How often a non-leader tries to take the lease; default 5 s. About a third of the TTL is plenty:
   * a dead leader's key lives for the TTL anyway. */
  retryMs?: number;
  log: NatsLog;
}

/**
 * Runs `work` while this process holds the lease; `work` gets a signal that aborts when the lease is
 * lost or the loop stops, and should return then. When `work` returns while still leader, the lease
 * is released and contended for again after retryMs.
 */
export function runWhileLeader(lease: Lease, work: (signal: AbortSignal) => Promise<void>, s: LeaderLoopSettings): LeaderLoop {
  const stopping = new AbortController();
  const retryMs = s.retryMs ?? 5_000;
  let troubled = false;
  const run = async () => {
    while (!stopping.signal.aborted) {
      let leader = false;
      try {
        leader = await lease.tryAcquire();
        if (troubled) s.log.info({ key: lease.key }, 'lease contention works again');
        troubled = false;
      } catch (err) {
        if (!troubled) s.log.warn({ key: lease.key, err }, 'cannot reach the lease bucket; retrying');
        troubled = true;
      }
      if (leader && !stopping.signal.aborted) {
        try {
          await work(AbortSignal.any([lease.signal(), stopping.signal]));
        } catch (err) {
          s.log.error({ key: lease.key, err }, 'leader work failed');
        }
        await lease.release();
      }
      if (stopping.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, retryMs);
        stopping.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  };
  const done = run();
  return {
    async stop() {
      stopping.abort();
      await done;
      await lease.release();
    },
  };
}

/**
 * A periodic job for one replica at a time: `cycle` runs when this process becomes leader and then
 * every `intervalMs` while it stays leader. A failed cycle is logged and the next one runs on time.
 */
export function runPeriodicallyWhileLeader(lease: Lease, intervalMs: number, cycle: (signal: AbortSignal) => Promise<unknown>, s: LeaderLoopSettings & { what: string }): LeaderLoop {
  return runWhileLeader(
    lease,
    async (signal) => {
      while (!signal.aborted) {
        await cycle(signal).catch((err: unknown) => s.log.warn({ err }, `${s.what} failed; the next cycle retries`));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, intervalMs);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    },
    s,
  );
}
