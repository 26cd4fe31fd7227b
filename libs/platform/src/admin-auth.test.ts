import { describe, expect, it } from 'vitest';
import { authorize, parseAdminTokens } from './admin-auth.js';

const tokens = parseAdminTokens('ops:write:0123456789abcdef0123, grafana:read:fedcba9876543210fedc');

describe('admin tokens', () => {
  it('parses name:scope:token entries', () => {
    expect(tokens.map((t) => [t.name, t.scope])).toEqual([['ops', 'write'], ['grafana', 'read']]);
  });

  it('rejects malformed and short tokens with the fix in the message', () => {
    expect(() => parseAdminTokens('ops:admin:0123456789abcdef0123')).toThrow(/entry 1 must be name:read\|write:token/);
    expect(() => parseAdminTokens('ops:write:short')).toThrow(/openssl rand/);
  });

  it('answers 401 without a token and for an unknown one, 403 for a read token on a write route', () => {
    expect(authorize(tokens, undefined, 'read')).toMatchObject({ ok: false, status: 401 });
    expect(authorize(tokens, 'Bearer nope-nope-nope-nope', 'read')).toMatchObject({ ok: false, status: 401, message: 'bearer token not recognised' });
    const denied = authorize(tokens, 'Bearer fedcba9876543210fedc', 'write');
    expect(denied).toMatchObject({ ok: false, status: 403 });
    expect(authorize(tokens, 'Bearer fedcba9876543210fedc', 'read')).toMatchObject({ ok: true });
    expect(authorize(tokens, 'bearer 0123456789abcdef0123', 'write')).toMatchObject({ ok: true, token: { name: 'ops' } });
  });
});
