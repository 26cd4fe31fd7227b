import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, classifyFailure, DEFAULT_RETRY_POLICY, nextStep, parseRetryAfter, type Failure, type RetryPolicy } from './retry.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('backoffDelayMs', () => {
  it('stays within [0, min(max, base · 2^retry)) and never exceeds max', () => {
    fc.assert(
      fc.property(fc.nat(60), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 120_000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (retry, base, max, r) => {
        const delay = backoffDelayMs(retry, base, max, () => r);
        return Number.isInteger(delay) && delay >= 0 && delay < Math.max(1, Math.min(max, base * 2 ** retry)) && delay <= max;
      }),
    );
  });
});

describe('classifyFailure', () => {
  it.each<[string, number, Record<string, string>, string, Failure['kind'], boolean?]>([
    ['no answer', 0, {}, 'no answer (ECONNREFUSED)', 'transient'],
    ['502', 502, {}, 'Server Error', 'transient'],
    ['401', 401, {}, 'Bad credentials', 'unauthorized'],
    ['404', 404, {}, 'Not Found', 'final'],
    ['409', 409, {}, 'Already exists', 'final'],
    ['422', 422, {}, 'Validation Failed', 'final'],
    ['403 without a limit is a permission problem', 403, { 'x-ratelimit-remaining': '4999' }, 'Resource not accessible by integration', 'final'],
    ['403 spent hourly budget', 403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 600) }, 'API rate limit exceeded for installation ID 1.', 'rate-limited', false],
    ['403 retry-after', 403, { 'x-ratelimit-remaining': '10', 'retry-after': '30' }, 'slow down', 'rate-limited', true],
    ['403 secondary message without retry-after', 403, {}, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', 'rate-limited', true],
    ['429 without headers', 429, {}, 'Too Many Requests', 'rate-limited', true],
    ['429 spent hourly budget', 429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 60) }, 'API rate limit exceeded', 'rate-limited', false],
  ])('%s', (_, status, headers, message, kind, secondary) => {
    const failure = classifyFailure(status, headers, message, NOW);
    expect(failure.kind).toBe(kind);
    if (failure.kind === 'rate-limited') expect(failure.limit.secondary).toBe(secondary);
  });

  it('takes the wait from retry-after, from the reset time, or a minute when GitHub names neither', () => {
    expect(classifyFailure(403, { 'retry-after': '30' }, 'x', NOW)).toMatchObject({ limit: { retryAfterMs: 30_000, resetAt: new Date(NOW + 30_000) } });
    expect(classifyFailure(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 600) }, 'x', NOW)).toMatchObject({
      limit: { retryAfterMs: 600_000, resetAt: new Date(NOW + 600_000), secondary: false },
    });
    expect(classifyFailure(429, {}, 'x', NOW)).toMatchObject({ limit: { retryAfterMs: 60_000 } });
  });

  it('never retries a 4xx other than 401, 403 and 429, and always retries 5xx', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 499 }).filter((s) => ![401, 403, 429].includes(s)), fc.string(), (status, message) => classifyFailure(status, {}, message, NOW).kind === 'final'),
    );
    fc.assert(fc.property(fc.integer({ min: 500, max: 599 }), fc.string(), (status, message) => classifyFailure(status, {}, message, NOW).kind === 'transient'));
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7_000);
    expect(parseRetryAfter(new Date(NOW + 5_000).toUTCString(), NOW)).toBe(5_000);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe('nextStep', () => {
  const failures = fc.oneof(
    fc.constant<Failure>({ kind: 'transient' }),
    fc.constant<Failure>({ kind: 'unauthorized' }),
    fc.constant<Failure>({ kind: 'final' }),
    fc.record({ ms: fc.integer({ min: 0, max: 120_000 }), secondary: fc.boolean() }).map<Failure>(({ ms, secondary }) => ({
      kind: 'rate-limited',
      limit: { retryAfterMs: ms, resetAt: new Date(NOW + ms), secondary },
    })),
  );
  const policies = fc.record<RetryPolicy>({
    attempts: fc.integer({ min: 1, max: 8 }),
    baseMs: fc.integer({ min: 1, max: 2_000 }),
    maxMs: fc.integer({ min: 1, max: 30_000 }),
    maxWaitMs: fc.integer({ min: 0, max: 60_000 }),
    totalMs: fc.integer({ min: 0, max: 120_000 }),
  });

  it('bounds a whole call: attempts, total waiting, one auth refresh, and no retry of a final answer or a long limit', () => {
    fc.assert(
      fc.property(policies, fc.array(failures, { minLength: 1, maxLength: 30 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (policy, sequence, r) => {
        let attempts = 0;
        let elapsedMs = 0;
        let refreshedAuth = false;
        let refreshes = 0;
        for (const failure of sequence) {
          if (failure.kind !== 'unauthorized') attempts += 1;
          const step = nextStep(failure, { attempts, elapsedMs, refreshedAuth }, policy, () => r);
          if (!step.retry) {
            return true;
          }
          expect(failure.kind).not.toBe('final');
          if (failure.kind === 'rate-limited') {
            expect(failure.limit.retryAfterMs).toBeLessThanOrEqual(policy.maxWaitMs);
            expect(step.delayMs).toBe(failure.limit.retryAfterMs);
          }
          if (step.refreshAuth) refreshes += 1;
          refreshedAuth ||= step.refreshAuth;
          elapsedMs += step.delayMs;
          expect(attempts).toBeLessThan(policy.attempts);
          expect(elapsedMs).toBeLessThanOrEqual(policy.totalMs);
          expect(refreshes).toBeLessThanOrEqual(1);
        }
        return true;
      }),
    );
  });

  it('retries a transient failure attempts − 1 times by default', () => {
    let attempts = 0;
    let retries = 0;
    for (;;) {
      attempts += 1;
      const step = nextStep({ kind: 'transient' }, { attempts, elapsedMs: 0, refreshedAuth: false }, DEFAULT_RETRY_POLICY, () => 0);
      if (!step.retry) break;
      retries += 1;
    }
    expect(retries).toBe(DEFAULT_RETRY_POLICY.attempts - 1);
  });
});
