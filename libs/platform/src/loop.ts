import { hostname } from 'node:os';
import { metrics } from '@opentelemetry/api';
import type { NatsConnection } from '@nats-io/transport-node';
import { createLease, runWhileLeader, type LeaderLoop } from './nats/lease.js';
import type { NatsLog } from './nats/connection.js';

/**
 * A named periodic job of a service: the one way services run work on a timer. It runs one pass at a
 * time (a wake-up during a pass runs one more pass right after it, never two at once), logs a failing
 * loop once when it starts failing and once when it recovers, and counts passes per loop name.
 */
export interface LoopSettings {
  /** Logs and the `loop` label of the metrics (e.g. `pool-manager.reconcile`). Keep it stable: dashboards use it. */
  name: string;
  /** Time from the end of one pass to the start of the next. */
  intervalMs: number;
  /**
   * Fraction of the interval (0..1) by which a wait is randomly shortened, so replicas or loops that
   * started together do not keep hitting a shared dependency in the same instant. Each call site
   * says why it wants some; default 0 (a plain interval).
   */
  jitter?: number;
  /** A pass. Resolve when done; throw to have the failure logged (once per episode) and counted. */
  run(signal: AbortSignal): unknown;
  log: NatsLog;
  /** Run a pass at start (default) or only after the first interval. */
  runAtStart?: boolean;
  /** The line logged once when passes start failing; default `<name> failed; retrying every <n> ms`. */
  failureMessage?: string;
  /** Only the replica that holds this lease runs the passes; the others wait to take it over. */
  lease?: LoopLease;
}

export interface LoopLease {
  nc: NatsConnection;
  /** One bucket per lease length (the TTL is bucket-wide). Persisted name: see @runnerhub/contracts. */
  bucket: string;
  key: string;
  ttlMs: number;
  /** Default `<hostname>:<pid>`: a container restarted in place keeps its name and takes its own key back at once. */
  holderId?: string;
  /** How often a replica that is not leader tries to take the lease; default 5 s. */
  retryMs?: number;
}

export interface Loop {
  readonly name: string;
  /** Asks for a pass now: starts one if idle, or one more right after the running one. No-op while not leader. */
  readonly wake: () => void;
  /** As wake(), and resolves when a pass that started after this call has ended (at once while not leader or stopped). */
  readonly runNow: () => Promise<void>;
  /** Stops the timer, aborts a running pass's signal, waits for it to end and releases the lease. */
  readonly stop: () => Promise<void>;
}

const meter = () => metrics.getMeter('@runnerhub/platform');
let instruments: { passes: ReturnType<ReturnType<typeof meter>['createCounter']>; duration: ReturnType<ReturnType<typeof meter>['createHistogram']> } | undefined;
function loopInstruments() {
  instruments ??= {
    passes: meter().createCounter('runnerhub_loop_passes', { description: 'Passes of a named service loop, by loop and outcome (ok, failed).' }),
    duration: meter().createHistogram('runnerhub_loop_pass_duration_seconds', { description: 'How long one pass of a named service loop took, by loop.', unit: 's' }),
  };
  return instruments;
}

export function startLoop(s: LoopSettings): Loop {
  if (!(s.intervalMs > 0)) throw new Error(`loop ${s.name}: intervalMs must be positive`);
  const jitter = Math.min(1, Math.max(0, s.jitter ?? 0));
  const stopping = new AbortController();
  let signal: AbortSignal = stopping.signal;
  let active = !s.lease;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let failingSince: number | undefined;
  let waiters: Array<() => void> = [];
  const releaseWaiters = () => {
    for (const w of waiters.splice(0)) w();
  };
  const m = loopInstruments();

  const pass = async () => {
    const started = performance.now();
    try {
      await s.run(signal);
      m.passes.add(1, { loop: s.name, outcome: 'ok' });
      if (failingSince !== undefined) {
        s.log.info({ loop: s.name, failingForMs: Date.now() - failingSince }, `${s.name} works again`);
        failingSince = undefined;
      }
    } catch (err) {
      m.passes.add(1, { loop: s.name, outcome: 'failed' });
      if (failingSince === undefined) {
        failingSince = Date.now();
        s.log.warn({ loop: s.name, err: err instanceof Error ? err.message : String(err) }, s.failureMessage ?? `${s.name} failed; retrying every ${s.intervalMs} ms`);
      } else s.log.debug({ loop: s.name, err: err instanceof Error ? err.message : String(err) }, `${s.name} still failing`);
    } finally {
      m.duration.record((performance.now() - started) / 1000, { loop: s.name });
    }
  };

  const schedule = () => {
    clearTimeout(timer);
    if (!active || signal.aborted) return;
    timer = setTimeout(trigger, Math.round(s.intervalMs * (1 - jitter * Math.random())));
  };

  const trigger = () => {
    if (!active || signal.aborted) return releaseWaiters();
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = (async () => {
      do {
        again = false;
        const served = waiters;
        waiters = [];
        await pass();
        for (const w of served) w();
      } while (again && active && !signal.aborted);
      running = undefined;
      releaseWaiters();
      schedule();
    })();
  };

  const begin = (sig: AbortSignal) => {
    signal = sig;
    active = true;
    if (s.runAtStart ?? true) trigger();
    else schedule();
  };

  let leader: LeaderLoop | undefined;
  if (s.lease) {
    const l = s.lease;
    const lease = createLease({ nc: l.nc, bucket: l.bucket, key: l.key, ttlMs: l.ttlMs, holderId: l.holderId ?? `${hostname()}:${process.pid}`, log: s.log });
    leader = runWhileLeader(
      lease,
      async (sig) => {
        begin(sig);
        await new Promise<void>((resolve) => (sig.aborted ? resolve() : sig.addEventListener('abort', () => resolve(), { once: true })));
        active = false;
        clearTimeout(timer);
        await running;
      },
      { log: s.log, retryMs: l.retryMs },
    );
  } else begin(stopping.signal);

  return {
    name: s.name,
    wake: () => trigger(),
    runNow: () => {
      const done = new Promise<void>((resolve) => waiters.push(resolve));
      trigger();
      return done;
    },
    async stop() {
      stopping.abort();
      active = false;
      clearTimeout(timer);
      await leader?.stop();
      await running;
      releaseWaiters();
    },
  };
}
