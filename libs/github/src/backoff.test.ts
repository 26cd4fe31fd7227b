import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, nextLink } from './backoff.js';

describe('backoffDelayMs', () => {
  it('stays within [0, min(max, base · 2^attempt)]', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 120_000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, base, max, r) => {
        const delay = backoffDelayMs(attempt, base, max, () => r);
        return delay >= 0 && delay <= Math.min(max, base * 2 ** attempt);
      }),
    );
  });
});

describe('nextLink', () => {
  it("finds GitHub's rel=next among the other relations", () => {
    expect(nextLink('<https://api.github.com/app/hook/deliveries?per_page=2&cursor=abc>; rel="next", <https://x?page=9>; rel="last"')).toBe(
      'https://api.github.com/app/hook/deliveries?per_page=2&cursor=abc',
    );
    expect(nextLink('<https://x?page=1>; rel="prev"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});
