import { randomBytes } from 'node:crypto';
import { REDIS_URL } from '@runnerhub/testing';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateBudget, readRateLevels } from '../src/index.js';

// The shared budget against real Redis: what one service records, another reads.

let redis: Redis;
const run = `test:github-budget:${randomBytes(4).toString('hex')}`;
let n = 0;
const freshPrefix = (): string => `${run}:${++n}`;

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
});

afterAll(async () => {
  const keys = await redis.keys(`${run}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const headers = (remaining: number, reset: number, resource = 'core') => ({
  'x-ratelimit-limit': '5000',
  'x-ratelimit-remaining': String(remaining),
  'x-ratelimit-reset': String(reset),
  'x-ratelimit-resource': resource,
});

describe('JIT registration window', () => {
  it('grants exactly what a 60 s sliding window of `limit` allows, and names the wait otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 25 }), async (limit, gaps) => {
        const budget = new RateBudget(redis, freshPrefix(), limit);
        const granted: number[] = [];
        let now = 1_000_000;
        for (const gap of gaps) {
          now += gap;
          const inWindow = granted.filter((t) => t > now - 60_000);
          const wait = await budget.takeJitSlot(now);
          if (inWindow.length < limit) {
            expect(wait).toBe(0);
            granted.push(now);
          } else {
            expect(wait).toBe(Math.max(1, inWindow[0]! + 60_000 - now));
          }
        }
        // Whatever the sequence, no minute ever held more than `limit` registrations.
        for (const t of granted) expect(granted.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(limit);
      }),
      { numRuns: 40 },
    );
  });

  it('is shared: two services on one App split one window', async () => {
    const prefix = freshPrefix();
    const [a, b] = [new RateBudget(redis, prefix, 3), new RateBudget(redis, prefix, 3)];
    const answers = await Promise.all([a, b, a, b, a, b].map((budget) => budget.takeJitSlot()));
    expect(answers.filter((w) => w === 0)).toHaveLength(3);
  });

  it('stops every registration while GitHub’s secondary limit runs', async () => {
    const budget = new RateBudget(redis, freshPrefix(), 100);
    await budget.blockJit(5_000);
    const wait = await budget.takeJitSlot();
    expect(wait).toBeGreaterThan(4_000);
    expect(wait).toBeLessThanOrEqual(5_000);
  });
});

describe('canSpend', () => {
  it('answers from the lowest remaining of the current window, whatever order answers arrive in', async () => {
    const budget = new RateBudget(redis, freshPrefix(), 150);
    const reset = Math.floor(Date.now() / 1000) + 600;
    await budget.record(7, headers(10, reset));
    await budget.record(7, headers(12, reset)); // an older answer arriving late
    expect(await budget.canSpend(7, 10)).toMatchObject({ ok: true, remaining: 10 });
    const refused = await budget.canSpend(7, 11);
    expect(refused).toMatchObject({ ok: false, remaining: 10, reason: 'exhausted' });
    expect(refused.retryAfterMs).toBeGreaterThan(590_000);
    // A new hour starts over; an answer from the old hour cannot take it back.
    await budget.record(7, headers(4999, reset + 3600));
    await budget.record(7, headers(0, reset));
    expect(await budget.canSpend(7, 100)).toMatchObject({ ok: true, remaining: 4999 });
  });

  it('keeps resources apart and owners apart', async () => {
    const budget = new RateBudget(redis, freshPrefix(), 150);
    const reset = Math.floor(Date.now() / 1000) + 600;
    await budget.record(7, headers(0, reset, 'search'));
    expect((await budget.canSpend(7)).ok).toBe(true);
    expect((await budget.canSpend(7, 1, 'search')).ok).toBe(false);
    await budget.record('app', headers(0, reset));
    expect((await budget.canSpend('app')).ok).toBe(false);
    expect((await budget.canSpend(7)).ok).toBe(true);
  });

  it('refuses during a secondary-limit block, which only ever grows', async () => {
    const prefix = freshPrefix();
    const budget = new RateBudget(redis, prefix, 150);
    await budget.block(9, 3_000);
    await budget.block(9, 100);
    const answer = await new RateBudget(redis, prefix, 150).canSpend(9);
    expect(answer).toMatchObject({ ok: false, reason: 'secondary' });
    expect(answer.retryAfterMs).toBeGreaterThan(2_000);
    expect((await budget.canSpend(10)).ok).toBe(true);
  });

  it('says yes when nothing is known yet, and ignores answers without rate headers', async () => {
    const budget = new RateBudget(redis, freshPrefix(), 150);
    await budget.record(3, {});
    expect(await budget.canSpend(3, 1000)).toEqual({ ok: true, retryAfterMs: 0, remaining: undefined });
  });
});

describe('reading the budget back (metrics)', () => {
  it('lists every owner and resource of every App under a key prefix, with what was last recorded', async () => {
    const keyPrefix = freshPrefix();
    const reset = Math.floor(Date.now() / 1000) + 3600;
    await new RateBudget(redis, `${keyPrefix}:42`, 150).record(7, headers(4000, reset));
    await new RateBudget(redis, `${keyPrefix}:42`, 150).record(7, headers(30, reset, 'search'));
    await new RateBudget(redis, `${keyPrefix}:42`, 150).record('app', headers(4990, reset));
    const levels = await readRateLevels(redis, keyPrefix);
    expect(levels.sort((a, b) => `${a.owner}${a.resource}`.localeCompare(`${b.owner}${b.resource}`))).toEqual([
      { appId: '42', owner: 7, resource: 'core', remaining: 4000, limit: 5000, reset },
      { appId: '42', owner: 7, resource: 'search', remaining: 30, limit: 5000, reset },
      { appId: '42', owner: 'app', resource: 'core', remaining: 4990, limit: 5000, reset },
    ]);
  });
});
