import type { Redis } from 'ioredis';

/**
 * GitHub's rate limits as every service sees them, shared through Redis: the last
 * `x-ratelimit-*` headers per bucket (the App, or one installation), blocks set by secondary
 * limits (`retry-after`), and a sliding window that keeps JIT runner creation under GitHub's
 * observed ceiling (about 166 per minute per App). Callers ask before they spend.
 */

export type Bucket = 'app' | `installation:${number}`;

export interface SpendAnswer {
  ok: boolean;
  /** When not ok: how long until it would be. */
  retryAfterMs: number;
  /** Last known remaining calls in the hour, if any response told us. */
  remaining: number | undefined;
}

// KEYS[1] window, ARGV: now, window ms, limit, member. Returns 0 when taken, else ms to wait.
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1]))
`;

export class RateBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly jitPerMinute: number,
  ) {}

  private key(kind: string, bucket: string): string {
    return `${this.prefix}:${kind}:${bucket}`;
  }

  /** Remembers what GitHub said about the bucket's hourly budget. */
  async record(bucket: Bucket, headers: Record<string, string | number | undefined>): Promise<void> {
    const remaining = headers['x-ratelimit-remaining'];
    const reset = Number(headers['x-ratelimit-reset']);
    if (remaining === undefined || !Number.isFinite(reset)) return;
    const key = this.key('rate', bucket);
    await this.redis
      .multi()
      .hset(key, { remaining: String(remaining), limit: String(headers['x-ratelimit-limit'] ?? ''), reset: String(reset) })
      .expireat(key, reset + 60)
      .exec();
  }

  /** A secondary limit: nobody spends from this bucket until `ms` from now. */
  async block(bucket: Bucket, ms: number): Promise<void> {
    await this.redis.set(this.key('blocked', bucket), String(Date.now() + ms), 'PX', Math.max(1, Math.ceil(ms)));
  }

  async canSpend(bucket: Bucket, calls = 1): Promise<SpendAnswer> {
    const [blockedUntil, rate] = await Promise.all([this.redis.get(this.key('blocked', bucket)), this.redis.hgetall(this.key('rate', bucket))]);
    const now = Date.now();
    const remaining = rate['remaining'] !== undefined ? Number(rate['remaining']) : undefined;
    if (blockedUntil && Number(blockedUntil) > now) return { ok: false, retryAfterMs: Number(blockedUntil) - now, remaining };
    const resetMs = Number(rate['reset']) * 1000;
    if (remaining !== undefined && remaining < calls && resetMs > now) return { ok: false, retryAfterMs: resetMs - now, remaining };
    return { ok: true, retryAfterMs: 0, remaining };
  }

  /** Takes one JIT creation slot for the App, or says how long until one frees up. */
  async takeJitSlot(appId: number): Promise<number> {
    const now = Date.now();
    const wait = await this.redis.eval(TAKE_SLOT, 1, this.key('jit', String(appId)), now, 60_000, this.jitPerMinute, `${now}:${Math.random()}`);
    return Number(wait);
  }
}
