import type { Logger } from './logging.js';

/**
 * Readiness follows lifecycle and dependencies: not ready before `markStarted`, while any
 * dependency check fails, and from the first moment of shutdown. Checks run on a timer so /readyz
 * is cheap and so consumers can pause while a dependency is down and resume when it answers again.
 */

export type Check = () => Promise<unknown>;
export type Phase = 'starting' | 'running' | 'stopping';

export interface ReadinessReport {
  ready: boolean;
  phase: Phase;
  checks: Record<string, { ok: boolean; error?: string }>;
}

export interface Readiness {
  addCheck(name: string, check: Check): void;
  markStarted(): void;
  markStopping(): void;
  report(): ReadinessReport;
  /** Runs every check now (also runs on the timer). */
  refresh(): Promise<ReadinessReport>;
  /** Called whenever `ready` flips; used to pause and resume consumers. */
  onChange(listener: (ready: boolean) => void): void;
  close(): void;
}

/** How often dependencies are probed: a dead dependency shows on /readyz within about this long. */
const CHECK_INTERVAL_MS = 2_000;
/** A probe slower than this counts as down: a dependency that slow cannot serve work either. */
const CHECK_TIMEOUT_MS = 1_500;

export function createReadiness(log: Logger, opts: { intervalMs?: number; timeoutMs?: number } = {}): Readiness {
  const checks = new Map<string, Check>();
  const results: ReadinessReport['checks'] = {};
  const listeners: Array<(ready: boolean) => void> = [];
  let phase: Phase = 'starting';
  let lastReady = false;
  let running: Promise<ReadinessReport> | undefined;
  const timeoutMs = opts.timeoutMs ?? CHECK_TIMEOUT_MS;

  const report = (): ReadinessReport => ({
    ready: phase === 'running' && Object.values(results).every((r) => r.ok),
    phase,
    checks: { ...results },
  });

  const publishChange = () => {
    const { ready } = report();
    if (ready === lastReady) return;
    lastReady = ready;
    log.info({ ready, phase, checks: results }, ready ? 'ready' : 'not ready');
    for (const l of listeners) l(ready);
  };

  const runOne = async (name: string, check: Check) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (results[name] && !results[name].ok) log.info({ dependency: name }, 'dependency answers again');
      results[name] = { ok: true };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (!results[name] || results[name].ok) log.warn({ dependency: name, error }, 'dependency is down');
      results[name] = { ok: false, error };
    } finally {
      clearTimeout(timer);
    }
  };

  const refresh = () => {
    running ??= Promise.all([...checks].map(([n, c]) => runOne(n, c)))
      .then(() => {
        publishChange();
        return report();
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const timer = setInterval(() => void refresh(), opts.intervalMs ?? CHECK_INTERVAL_MS);
  timer.unref();

  return {
    addCheck(name, check) {
      checks.set(name, check);
      results[name] = { ok: false, error: 'not checked yet' };
    },
    markStarted() {
      phase = 'running';
      publishChange();
    },
    markStopping() {
      phase = 'stopping';
      publishChange();
    },
    report,
    refresh,
    onChange(listener) {
      listeners.push(listener);
    },
    close() {
      clearInterval(timer);
    },
  };
}
