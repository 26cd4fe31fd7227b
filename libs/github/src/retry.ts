import type { RateLimit } from './errors.js';

/**
 * When a failed GitHub call is tried again, as pure functions (the client does the waiting).
 * GitHub's rules (docs "Rate limits for the REST API", "Best practices"): 5xx and the network are
 * worth retrying with backoff; a 401 may be a token that just expired, so one refresh; 403/429 with
 * `retry-after`, or a message about a secondary limit, is a secondary limit (wait `retry-after`, else
 * at least a minute); 403/429 with `x-ratelimit-remaining: 0` is the spent hourly budget (wait for
 * `x-ratelimit-reset`); every other 4xx will answer the same again.
 */

export type ResponseHeaders = Record<string, string | number | undefined>;

export type Failure =
  | { kind: 'unauthorized' }
  | { kind: 'rate-limited'; limit: RateLimit }
  | { kind: 'transient' }
  | { kind: 'final' };

export interface RetryPolicy {
  /** Attempts for 5xx, network errors and rate-limit waits, the first one included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** Longest rate-limit wait worth sitting out; longer ones go back to the caller. */
  maxWaitMs: number;
  /** One call, every attempt and wait included, never takes longer than this. */
  totalMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseMs: 250, maxMs: 8_000, maxWaitMs: 10_000, totalMs: 45_000 };

/** GitHub: "If you don't see a retry-after header, wait for at least one minute." */
const SECONDARY_WAIT_WITHOUT_HEADER_MS = 60_000;

/** `status` 0 means no answer (network error, timeout). */
export function classifyFailure(status: number, headers: ResponseHeaders, githubMessage: string, nowMs: number): Failure {
  if (status === 0 || status >= 500) return { kind: 'transient' };
  if (status === 401) return { kind: 'unauthorized' };
  if (status !== 403 && status !== 429) return { kind: 'final' };
  const retryAfterMs = parseRetryAfter(headers['retry-after'], nowMs);
  const exhausted = String(headers['x-ratelimit-remaining']) === '0';
  if (/secondary rate limit/i.test(githubMessage) || (!exhausted && (retryAfterMs !== undefined || status === 429))) {
    const waitMs = retryAfterMs ?? SECONDARY_WAIT_WITHOUT_HEADER_MS;
    return { kind: 'rate-limited', limit: { retryAfterMs: waitMs, resetAt: new Date(nowMs + waitMs), secondary: true } };
  }
  if (exhausted) {
    const reset = Number(headers['x-ratelimit-reset']);
    const resetAtMs = Number.isFinite(reset) && reset > 0 ? reset * 1000 : nowMs + (retryAfterMs ?? SECONDARY_WAIT_WITHOUT_HEADER_MS);
    return { kind: 'rate-limited', limit: { retryAfterMs: retryAfterMs ?? Math.max(0, resetAtMs - nowMs), resetAt: new Date(resetAtMs), secondary: false } };
  }
  return { kind: 'final' };
}

export interface Progress {
  /** Attempts made so far that count against `policy.attempts` (the one that just failed included). */
  attempts: number;
  elapsedMs: number;
  /** The token or JWT was already refreshed once during this call. */
  refreshedAuth: boolean;
}

export type Step = { retry: false } | { retry: true; delayMs: number; refreshAuth: boolean };

const GIVE_UP: Step = { retry: false };

export function nextStep(failure: Failure, progress: Progress, policy: RetryPolicy, random: () => number = Math.random): Step {
  switch (failure.kind) {
    case 'final':
      return GIVE_UP;
    case 'unauthorized':
      return progress.refreshedAuth ? GIVE_UP : { retry: true, delayMs: 0, refreshAuth: true };
    case 'rate-limited':
      return within(failure.limit.retryAfterMs <= policy.maxWaitMs ? failure.limit.retryAfterMs : Infinity, progress, policy);
    case 'transient':
      return within(backoffDelayMs(progress.attempts - 1, policy.baseMs, policy.maxMs, random), progress, policy);
  }
}

function within(delayMs: number, progress: Progress, policy: RetryPolicy): Step {
  if (progress.attempts >= policy.attempts || progress.elapsedMs + delayMs > policy.totalMs) return GIVE_UP;
  return { retry: true, delayMs, refreshAuth: false };
}

/** Exponential backoff with full jitter: a random wait in [0, min(max, base · 2^retry)). */
export function backoffDelayMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry));
  return Math.floor(random() * ceiling);
}

/** `retry-after` is seconds, or an HTTP date (RFC 9110). */
export function parseRetryAfter(value: string | number | undefined, nowMs: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(value));
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
