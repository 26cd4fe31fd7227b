import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextCursor, nextLink } from './link-header.js';

describe('nextLink', () => {
  it("finds GitHub's rel=next among the other relations", () => {
    expect(nextLink('<https://api.github.com/app/hook/deliveries?per_page=2&cursor=abc>; rel="next", <https://x?page=9>; rel="last"')).toBe(
      'https://api.github.com/app/hook/deliveries?per_page=2&cursor=abc',
    );
    expect(nextLink('<https://x?page=1>; rel="prev"')).toBeUndefined();
    expect(nextLink('<https://x?page=3>; rel=next')).toBe('https://x?page=3');
    expect(nextLink('<https://x?page=3>; rel="prev next"')).toBe('https://x?page=3');
    expect(nextLink(undefined)).toBeUndefined();
    expect(nextLink('')).toBeUndefined();
  });

  it('finds the next URL in any order, with commas and semicolons inside URLs', () => {
    const url = fc
      .tuple(fc.webUrl(), fc.array(fc.stringMatching(/^[a-z0-9,;=%]{0,12}$/), { maxLength: 3 }))
      .map(([base, parts]) => `${base}?q=${parts.join('&')}`);
    const relations = fc.uniqueArray(fc.constantFrom('next', 'prev', 'first', 'last'), { minLength: 0, maxLength: 4 });
    fc.assert(
      fc.property(relations, fc.array(url, { minLength: 4, maxLength: 4 }), fc.boolean(), (rels, urls, spaced) => {
        const header = rels.map((rel, i) => `<${urls[i]}>;${spaced ? ' ' : ''}rel="${rel}"`).join(spaced ? ', ' : ',');
        const at = rels.indexOf('next');
        expect(nextLink(header)).toBe(at === -1 ? undefined : urls[at]);
      }),
    );
  });
});

describe('nextCursor', () => {
  it('returns the cursor of the next page, decoded, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (cursor) => {
        const next = `https://ghes.example/api/v3/app/hook/deliveries?per_page=100&cursor=${encodeURIComponent(cursor)}`;
        expect(nextCursor(`<${next}>; rel="next"`)).toBe(cursor);
      }),
    );
    expect(nextCursor('<https://x/app/hook/deliveries?per_page=2>; rel="prev"')).toBeUndefined();
  });
});
