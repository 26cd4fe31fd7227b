import type { RateLimits } from './api.js';
import type { SimClock } from './clock.js';
import { GitHubHttpError } from './errors.js';

/**
 * Primary limits per installation and for the App JWT (hourly windows, GitHub's headers on every
 * answer) and the secondary limit on JIT runner creation (github-contract.md §4, issue 3).
 */

export interface RateState {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
}

const HOUR_MS = 3_600_000;
const DOCS_PRIMARY = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';
const DOCS_SECONDARY = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';

export class RateLimiter {
  private limits: Required<RateLimits> = { installation: 5000, app: 5000, jitPerMinute: 166 };
  private readonly windows = new Map<string, { used: number; resetAt: number }>();
  private jitCalls: number[] = [];

  constructor(private readonly clock: SimClock) {}

  configure(limits: RateLimits): void {
    this.limits = { ...this.limits, ...limits };
    this.windows.clear();
    this.jitCalls = [];
  }

  /** Counts one request; throws GitHub's 403 when the window is spent. */
  spend(key: 'app' | `installation:${number}`): RateState {
    const state = this.peek(key);
    if (state.remaining <= 0) {
      const who = key === 'app' ? 'the GitHub App' : `installation ID ${key.split(':')[1]}`;
      throw new GitHubHttpError(403, `API rate limit exceeded for ${who}.`, DOCS_PRIMARY, headersOf(state));
    }
    const window = this.windows.get(key);
    if (window) window.used += 1;
    return this.peek(key);
  }

  peek(key: string): RateState {
    const now = this.clock.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { used: 0, resetAt: now + HOUR_MS };
      this.windows.set(key, window);
    }
    const limit = key === 'app' ? this.limits.app : this.limits.installation;
    return { limit, used: window.used, remaining: Math.max(0, limit - window.used), reset: Math.ceil(window.resetAt / 1000) };
  }

  /** The secondary limit GitHub applies to runner registration bursts. */
  spendJit(): void {
    const now = this.clock.now();
    this.jitCalls = this.jitCalls.filter((t) => now - t < 60_000);
    if (this.jitCalls.length >= this.limits.jitPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((this.jitCalls[0]! + 60_000 - now) / 1000));
      throw new GitHubHttpError(
        403,
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
        DOCS_SECONDARY,
        { 'retry-after': String(retryAfter) },
      );
    }
    this.jitCalls.push(now);
  }
}

export function headersOf(state: RateState): Record<string, string> {
  return {
    'x-ratelimit-limit': String(state.limit),
    'x-ratelimit-remaining': String(state.remaining),
    'x-ratelimit-used': String(state.used),
    'x-ratelimit-reset': String(state.reset),
    'x-ratelimit-resource': 'core',
  };
}
