export interface WaitForOptions {
  /** Give up after this long. Generous by default: CI shares two cores with everything else. */
  timeoutMs?: number;
  /** Pause between attempts. */
  intervalMs?: number;
  /** What we are waiting for, for the timeout message: "scheduler /readyz to answer 200". */
  what?: string;
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * Polls `check` until it returns a truthy value and resolves with that value. A throwing check
 * counts as "not yet". On timeout the error names `what` and the last result or error, so a red
 * test says what never happened instead of just "timeout".
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitForOptions = {}): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 100;
  const what = options.what ?? 'condition';
  const deadline = Date.now() + timeoutMs;
  let last = 'never checked';

  for (;;) {
    const remaining = deadline - Date.now();
    try {
      // A check that hangs (a connect to a dead host) must not outlive the deadline.
      const value = await withDeadline(Promise.resolve().then(check), Math.max(remaining, 1));
      if (value) return value as Truthy<T>;
      last = `last result: ${describe(value)}`;
    } catch (error) {
      // The final attempt gets only what is left of the deadline; a result from before says more.
      if (!(error instanceof DeadlineError)) last = `last error: ${describe(error)}`;
      else if (last === 'never checked') last = 'last check still running';
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    }
    await sleep(Math.min(intervalMs, Math.max(deadline - Date.now(), 0)));
  }
}

class DeadlineError extends Error {}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
