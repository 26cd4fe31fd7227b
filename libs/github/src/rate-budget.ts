import type { Redis } from 'ioredis';
import type { ResponseHeaders } from './retry.js';

/**
 * GitHub's rate limits as every service sees them, shared through Redis, so one service's burst
 * slows the others before GitHub has to:
 * - the last `x-ratelimit-*` headers per owner (the App's JWT calls, or one installation) and
 *   resource (`core`, ...): callers ask `canSpend` before they spend;
 * - blocks set by secondary limits (`retry-after`): nobody calls as that owner until they end;
 * - a sliding window of JIT runner registrations for the App, under GitHub's observed ceiling of
 *   about 166 per minute (github-contract.md §5), plus a block when GitHub refused one anyway.
 */

/** Who spends: the App itself (JWT calls) or an installation (its id). */
export type BudgetOwner = 'app' | number;

export interface SpendAnswer {
  ok: boolean;
  /** When not ok: how long until it would be. */
  retryAfterMs: number;
  /** Last known calls left in the hour, if a response told us. */
  remaining: number | undefined;
  /** When not ok: `secondary` (a retry-after block) or `exhausted` (the hourly budget is spent). */
  reason?: 'secondary' | 'exhausted';
}

const JIT_WINDOW_MS = 60_000;

// Answers of one hourly window can arrive out of order: keep the lowest `remaining` of a window and
// never go back to an older window. KEYS[1] hash; ARGV remaining, limit, reset (epoch s).
const RECORD = `
local stored = redis.call('HMGET', KEYS[1], 'reset', 'remaining')
local reset = tonumber(ARGV[3])
if stored[1] then
  local storedReset = tonumber(stored[1])
  if storedReset > reset then return 0 end
  if storedReset == reset and tonumber(stored[2]) <= tonumber(ARGV[1]) then return 0 end
end
redis.call('HSET', KEYS[1], 'remaining', ARGV[1], 'limit', ARGV[2], 'reset', ARGV[3])
redis.call('EXPIREAT', KEYS[1], reset + 60)
return 1
`;

// A block only ever grows. KEYS[1] block key; ARGV ms.
const BLOCK = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 0
`;

// KEYS[1] window (sorted set of registration times), KEYS[2] block; ARGV now, window ms, limit,
// member. Returns 0 when a slot was taken, else the ms until one frees up.
const TAKE_JIT_SLOT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return blocked end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
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
    /** e.g. `runnerhub:github:<appId>`: one budget per App, whatever the service. */
    private readonly prefix: string,
    private readonly jitPerMinute: number,
  ) {}

  private key(kind: 'rate' | 'blocked', owner: BudgetOwner, resource?: string): string {
    const who = owner === 'app' ? 'app' : `installation:${owner}`;
    return resource ? `${this.prefix}:${kind}:${who}:${resource}` : `${this.prefix}:${kind}:${who}`;
  }

  /** Remembers what a response said about the owner's hourly budget. */
  async record(owner: BudgetOwner, headers: ResponseHeaders): Promise<void> {
    const remaining = Number(headers['x-ratelimit-remaining']);
    const reset = Number(headers['x-ratelimit-reset']);
    if (headers['x-ratelimit-remaining'] === undefined || !Number.isFinite(remaining) || !Number.isFinite(reset)) return;
    const resource = String(headers['x-ratelimit-resource'] ?? 'core');
    await this.redis.eval(RECORD, 1, this.key('rate', owner, resource), remaining, String(headers['x-ratelimit-limit'] ?? ''), reset);
  }

  /** A secondary limit: nobody calls as this owner until `ms` from now. */
  async block(owner: BudgetOwner, ms: number): Promise<void> {
    await this.redis.eval(BLOCK, 1, this.key('blocked', owner), Math.max(1, Math.ceil(ms)));
  }

  /** May `calls` calls be made as `owner` now (against `resource`, `core` unless said)? */
  async canSpend(owner: BudgetOwner, calls = 1, resource = 'core'): Promise<SpendAnswer> {
    const [blockedMs, rate] = await Promise.all([this.redis.pttl(this.key('blocked', owner)), this.redis.hgetall(this.key('rate', owner, resource))]);
    const remaining = rate['remaining'] !== undefined ? Number(rate['remaining']) : undefined;
    if (blockedMs > 0) return { ok: false, retryAfterMs: blockedMs, remaining, reason: 'secondary' };
    const resetInMs = Number(rate['reset']) * 1000 - Date.now();
    if (remaining !== undefined && remaining < calls && resetInMs > 0) return { ok: false, retryAfterMs: resetInMs, remaining, reason: 'exhausted' };
    return { ok: true, retryAfterMs: 0, remaining };
  }

  /** Takes one JIT registration slot for the App: 0 when taken, else the ms until one frees up. */
  async takeJitSlot(nowMs: number = Date.now()): Promise<number> {
    const member = `${nowMs}:${Math.random()}`;
    const wait = await this.redis.eval(TAKE_JIT_SLOT, 2, `${this.prefix}:jit`, `${this.prefix}:jit:blocked`, nowMs, JIT_WINDOW_MS, this.jitPerMinute, member);
    return Number(wait);
  }

  /** GitHub refused a registration with a secondary limit: no service registers until `ms` from now. */
  async blockJit(ms: number): Promise<void> {
    await this.redis.eval(BLOCK, 1, `${this.prefix}:jit:blocked`, Math.max(1, Math.ceil(ms)));
  }
}

/** One owner's last known hourly budget, as `RateBudget.record` stored it. */
export interface RateLevel {
  appId: string;
  owner: BudgetOwner;
  resource: string;
  remaining: number;
  /** Undefined when GitHub sent no x-ratelimit-limit. */
  limit: number | undefined;
  /** Epoch seconds when the window resets. */
  reset: number;
}

/**
 * Every owner's last known budget under `keyPrefix` (every App), for the metrics service: read
 * here, next to the key layout `RateBudget` writes, so nobody else parses the keys. Entries expire
 * a minute after their window resets, so only current windows are listed.
 */
export async function readRateLevels(redis: Redis, keyPrefix: string): Promise<RateLevel[]> {
  const pattern = new RegExp(`^${keyPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:([^:]+):rate:(app|installation:(\\d+)):([^:]+)$`);
  const levels: RateLevel[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}:*:rate:*`, 'COUNT', 200);
    cursor = next;
    for (const key of keys) {
      const m = pattern.exec(key);
      if (!m) continue;
      const h = await redis.hgetall(key);
      const remaining = Number(h['remaining']);
      const reset = Number(h['reset']);
      if (!Number.isFinite(remaining) || !Number.isFinite(reset)) continue;
      const limit = h['limit'] ? Number(h['limit']) : NaN;
      levels.push({ appId: m[1]!, owner: m[3] ? Number(m[3]) : 'app', resource: m[4]!, remaining, limit: Number.isFinite(limit) ? limit : undefined, reset });
    }
  } while (cursor !== '0');
  return levels;
}
