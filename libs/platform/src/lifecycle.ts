import type { Logger } from './logging.js';

/**
 * Ordered start, ordered stop. Whatever must be stopped is added in start order; on SIGTERM/SIGINT
 * the list is stopped newest-first (HTTP intake, then consumers, then connections) under one deadline.
 */

export interface Lifecycle {
  /** Registers something to stop; things are stopped in the reverse order of registration. */
  onStop(name: string, stop: () => Promise<void> | void): void;
  /** Runs before the stop list: the moment shutdown begins (readiness flips to 503 here). */
  onShutdownStart(hook: () => void): void;
  /** Stops everything; resolves true when every part stopped cleanly within the deadline. */
  shutdown(reason: string): Promise<boolean>;
  /** SIGTERM/SIGINT and fatal errors trigger shutdown and set the exit code. */
  installSignalHandlers(): void;
}

export function createLifecycle(log: Logger, deadlineMs: number): Lifecycle {
  const parts: Array<{ name: string; stop: () => Promise<void> | void }> = [];
  const startHooks: Array<() => void> = [];
  let shuttingDown: Promise<boolean> | undefined;

  const stopAll = async (reason: string): Promise<boolean> => {
    log.info({ reason, deadlineMs }, 'shutting down');
    for (const h of startHooks) h();
    const deadline = Date.now() + deadlineMs;
    let clean = true;
    for (const part of [...parts].reverse()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        log.error({ part: part.name }, 'shutdown deadline passed before this part was stopped');
        clean = false;
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(part.stop),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not stop within ${left} ms`)), left);
          }),
        ]);
        log.debug({ part: part.name }, 'stopped');
      } catch (err) {
        clean = false;
        log.error({ part: part.name, err }, 'failed to stop cleanly');
      } finally {
        clearTimeout(timer);
      }
    }
    log.info({ clean }, 'shutdown complete');
    return clean;
  };

  const lifecycle: Lifecycle = {
    onStop(name, stop) {
      parts.push({ name, stop });
    },
    onShutdownStart(hook) {
      startHooks.push(hook);
    },
    shutdown(reason) {
      shuttingDown ??= stopAll(reason);
      return shuttingDown;
    },
    installSignalHandlers() {
      const exitAfter = (reason: string, failed: boolean) => {
        void lifecycle.shutdown(reason).then((clean) => {
          process.exitCode = clean && !failed ? 0 : 1;
          // Timers of libraries we do not own may keep the loop alive; the work is done.
          setTimeout(() => process.exit(), 100).unref();
        });
      };
      process.once('SIGTERM', () => exitAfter('SIGTERM', false));
      process.once('SIGINT', () => exitAfter('SIGINT', false));
      process.on('uncaughtException', (err) => {
        log.fatal({ err }, 'uncaught exception');
        exitAfter('uncaught exception', true);
      });
      process.on('unhandledRejection', (err) => {
        log.fatal({ err }, 'unhandled promise rejection');
        exitAfter('unhandled rejection', true);
      });
    },
  };
  return lifecycle;
}
