import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultFake, type VaultFake } from '../src/index.js';

describe('vault fake speaks Vault HTTP', () => {
  let v: VaultFake;
  // Vault's bodies are loosely shaped JSON; the assertions below check their shape.
  type Body = { [k: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const call = async (method: string, path: string, o: { token?: string; body?: unknown } = {}) => {
    const res = await fetch(`${v.url}${path}`, {
      method,
      headers: { ...(o.token ? { 'X-Vault-Token': o.token } : {}), ...(o.body ? { 'content-type': 'application/json' } : {}) },
      body: o.body ? JSON.stringify(o.body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Body) : undefined };
  };

  beforeAll(async () => {
    v = await startVaultFake();
    v.addPolicy('runnerhub', { paths: [{ prefix: 'secret/data/runnerhub', capabilities: ['read'] }] });
    v.addAppRole({ roleName: 'svc', roleId: 'role-1', secretId: 'secret-1', tokenTtlSec: 60, tokenMaxTtlSec: 120, policies: ['runnerhub'] });
  });
  afterAll(() => v.stop());

  it('reports health, and 503 while sealed', async () => {
    expect(await call('GET', '/v1/sys/health')).toMatchObject({ status: 200, body: { initialized: true, sealed: false } });
    v.seal();
    expect(await call('GET', '/v1/sys/health')).toMatchObject({ status: 503, body: { sealed: true } });
    expect(await call('GET', '/v1/secret/data/x', { token: v.rootToken })).toMatchObject({ status: 503, body: { errors: ['Vault is sealed'] } });
    v.unseal();
  });

  it('logs in with AppRole and rejects bad input with Vault\'s messages', async () => {
    expect(await call('POST', '/v1/auth/approle/login', { body: { secret_id: 'x' } })).toEqual({ status: 400, body: { errors: ['missing role_id'] } });
    expect(await call('POST', '/v1/auth/approle/login', { body: { role_id: 'role-1' } })).toEqual({ status: 400, body: { errors: ['missing secret_id'] } });
    expect(await call('POST', '/v1/auth/approle/login', { body: { role_id: 'role-1', secret_id: 'wrong' } })).toEqual({ status: 400, body: { errors: ['invalid role or secret ID'] } });
    const ok = await call('POST', '/v1/auth/approle/login', { body: { role_id: 'role-1', secret_id: 'secret-1' } });
    expect(ok.status).toBe(200);
    expect(ok.body!.auth).toMatchObject({ lease_duration: 60, renewable: true, metadata: { role_name: 'svc' } });
    expect(ok.body!.auth.token_policies).toContain('runnerhub');
  });

  it('enforces policies and token expiry with 403 permission denied', async () => {
    v.kv.put('runnerhub', { A: '1' });
    v.kv.put('other', { B: '2' });
    const token = (await call('POST', '/v1/auth/approle/login', { body: { role_id: 'role-1', secret_id: 'secret-1' } })).body!.auth.client_token as string;
    expect((await call('GET', '/v1/secret/data/runnerhub', { token })).body!.data.data).toEqual({ A: '1' });
    expect(await call('GET', '/v1/secret/data/other', { token })).toEqual({ status: 403, body: { errors: ['permission denied'] } });
    expect(await call('GET', '/v1/secret/data/runnerhub')).toEqual({ status: 403, body: { errors: ['permission denied'] } });
    v.clock.advance(61_000);
    expect((await call('GET', '/v1/secret/data/runnerhub', { token })).status).toBe(403);
  });

  it('renews up to the max TTL and warns when capped', async () => {
    const token = (await call('POST', '/v1/auth/approle/login', { body: { role_id: 'role-1', secret_id: 'secret-1' } })).body!.auth.client_token as string;
    v.clock.advance(50_000);
    const renewed = await call('POST', '/v1/auth/token/renew-self', { token, body: {} });
    expect(renewed.body!.auth.lease_duration).toBe(60);
    v.clock.advance(50_000);
    const capped = await call('POST', '/v1/auth/token/renew-self', { token, body: {} });
    expect(capped.body!.auth.lease_duration).toBe(20);
    expect(capped.body!.warnings[0]).toMatch(/capped/);
    expect((await call('GET', '/v1/auth/token/lookup-self', { token })).body!.data.ttl).toBe(20);
  });

  it('implements KV v2 versions, check-and-set, soft delete and listing', async () => {
    const t = v.rootToken;
    expect(await call('GET', '/v1/secret/data/never', { token: t })).toEqual({ status: 404, body: { errors: [] } });
    expect((await call('POST', '/v1/secret/data/app/one', { token: t, body: { data: { k: 'v1' }, options: { cas: 0 } } })).body!.data.version).toBe(1);
    expect(await call('POST', '/v1/secret/data/app/one', { token: t, body: { data: { k: 'x' }, options: { cas: 0 } } })).toEqual({
      status: 400,
      body: { errors: ['check-and-set parameter did not match the current version'] },
    });
    await call('POST', '/v1/secret/data/app/one', { token: t, body: { data: { k: 'v2' }, options: { cas: 1 } } });
    expect((await call('GET', '/v1/secret/data/app/one?version=1', { token: t })).body!.data.data).toEqual({ k: 'v1' });
    expect((await call('DELETE', '/v1/secret/data/app/one', { token: t })).status).toBe(204);
    const deleted = await call('GET', '/v1/secret/data/app/one', { token: t });
    expect(deleted.status).toBe(404);
    expect(deleted.body!.data).toMatchObject({ data: null, metadata: { version: 2 } });
    expect((await call('GET', '/v1/secret/metadata/app?list=true', { token: t })).body!.data.keys).toEqual(['one']);
    expect((await call('GET', '/v1/secret/metadata/empty?list=true', { token: t })).status).toBe(404);
  });

  it('injects 503s on request', async () => {
    v.chaos.failNext(2);
    expect((await call('GET', '/v1/sys/health')).status).toBe(503);
    expect((await call('GET', '/v1/sys/health')).status).toBe(503);
    expect((await call('GET', '/v1/sys/health')).status).toBe(200);
  });
});
