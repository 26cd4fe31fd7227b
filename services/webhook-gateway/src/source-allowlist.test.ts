import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddress, createSourceAllowlist, toBlockList } from './source-allowlist.js';

describe('source allowlist', () => {
  const allowlist = createSourceAllowlist(['10.0.0.0/8']);
  allowlist.setRanges(['192.30.252.0/22', '2a0a:a440::/29']);

  it("admits GitHub's ranges directly and through a trusted proxy, and nothing else", () => {
    expect(allowlist.check('192.30.252.10', undefined)).toBeUndefined();
    expect(allowlist.check('::ffff:192.30.252.10', undefined)).toBeUndefined();
    expect(allowlist.check('2a0a:a440::1', undefined)).toBeUndefined();
    expect(allowlist.check('203.0.113.7', undefined)).toBe("source 203.0.113.7 is not in GitHub's hooks ranges");
    expect(allowlist.check('10.0.0.2', '192.30.252.10')).toBeUndefined();
    // A forged leftmost entry does not help: the proxy appended the real client last.
    expect(allowlist.check('10.0.0.2', '192.30.252.10, 203.0.113.7')).toMatch(/203.0.113.7/);
    // An untrusted peer's X-Forwarded-For is ignored.
    expect(allowlist.check('203.0.113.7', '192.30.252.10')).toMatch(/203.0.113.7/);
  });

  it('fails closed until the ranges are known', () => {
    expect(createSourceAllowlist([]).check('192.30.252.10', undefined)).toMatch(/not known yet/);
  });

  it('never takes a trusted proxy for the client when an untrusted hop exists', () => {
    const trusted = toBlockList(['10.0.0.0/8']);
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    fc.assert(
      fc.property(fc.array(ipv4, { maxLength: 5 }), ipv4, (hops, peer) => {
        const client = clientAddress(`10.1.2.3`, [...hops, peer].join(', '), trusted)!;
        const untrusted = [...hops, peer].filter((h) => !h.startsWith('10.'));
        return untrusted.length === 0 || !client.startsWith('10.');
      }),
    );
  });
});
