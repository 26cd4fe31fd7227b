import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVaultFake, type VaultFake } from '@runnerhub/vault-fake';
import { waitFor } from '@runnerhub/testing';
import { loadSecrets, MissingSecretsError, type SecretSpec, type Secrets } from '../src/index.js';

const specs: SecretSpec[] = [
  { name: 'GITHUB_WEBHOOK_SECRET', required: true, description: 'webhook secret' },
  { name: 'ADMIN_TOKENS', required: false, description: 'admin tokens' },
];

function recordingLog() {
  const entries: unknown[] = [];
  const rec = (level: string) => (obj: object, msg?: string) => entries.push({ level, obj, msg });
  return { entries, log: { info: rec('info'), warn: rec('warn'), error: rec('error'), debug: rec('debug') } };
}

describe('loadSecrets from env and files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secrets-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prefers the variable, then NAME_FILE, then the Docker secrets folder, and trims the trailing newline', async () => {
    await writeFile(join(dir, 'file-secret'), 'from-file-value\n');
    await writeFile(join(dir, 'github_webhook_secret'), 'from-docker-secret\n');
    const viaEnv = await loadSecrets(specs, { env: { GITHUB_WEBHOOK_SECRET: 'from-env-value' }, secretsDir: dir });
    expect(viaEnv.get('GITHUB_WEBHOOK_SECRET')).toBe('from-env-value');
    const viaFile = await loadSecrets(specs, { env: { GITHUB_WEBHOOK_SECRET_FILE: join(dir, 'file-secret') }, secretsDir: dir });
    expect(viaFile.get('GITHUB_WEBHOOK_SECRET')).toBe('from-file-value');
    const viaDocker = await loadSecrets(specs, { env: {}, secretsDir: dir });
    expect(viaDocker.get('GITHUB_WEBHOOK_SECRET')).toBe('from-docker-secret');
    expect(viaDocker.find('ADMIN_TOKENS')).toBeUndefined();
    expect(() => viaDocker.get('ADMIN_TOKENS')).toThrow(/ADMIN_TOKENS/);
    expect(() => viaDocker.find('NOT_DECLARED')).toThrow(/NOT_DECLARED/);
  });

  it('names every missing required secret and where it looked, in one error', async () => {
    const two: SecretSpec[] = [...specs, { name: 'GITHUB_APP_PRIVATE_KEY', required: true, description: 'key' }];
    const err = await loadSecrets(two, { env: {}, secretsDir: dir + '-none' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingSecretsError);
    expect((err as MissingSecretsError).missing.map((m) => m.name)).toEqual(['GITHUB_WEBHOOK_SECRET', 'GITHUB_APP_PRIVATE_KEY']);
    expect((err as Error).message).toContain('$GITHUB_APP_PRIVATE_KEY_FILE');
  });

  it('fails clearly when NAME_FILE points nowhere', async () => {
    await expect(loadSecrets(specs, { env: { GITHUB_WEBHOOK_SECRET_FILE: '/nonexistent/x' }, secretsDir: dir })).rejects.toThrow(/GITHUB_WEBHOOK_SECRET_FILE names \/nonexistent\/x/);
  });
});

describe('loadSecrets from Vault (through the Vault fake, over HTTP)', () => {
  let v: VaultFake;
  const open: Secrets[] = [];
  const emptyDir = join(tmpdir(), 'no-docker-secrets-here');
  const vaultEnv = (extra: Record<string, string>) => ({ VAULT_ADDR: v.url, ...extra });

  beforeAll(async () => {
    v = await startVaultFake();
    v.addPolicy('runnerhub-read', { paths: [{ prefix: 'secret/data/runnerhub', capabilities: ['read'] }] });
    v.kv.put('runnerhub', { GITHUB_WEBHOOK_SECRET: 'vault-held-webhook-secret', ADMIN_TOKENS: 'ops:write:vault-held-admin-token' });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(() => v.stop());

  it('reads KV v2 with a token', async () => {
    const token = v.createToken({ policies: ['runnerhub-read'], ttlSec: 3600 });
    const s = await loadSecrets(specs, { env: vaultEnv({ VAULT_TOKEN: token }), secretsDir: emptyDir });
    open.push(s);
    expect(s.get('GITHUB_WEBHOOK_SECRET')).toBe('vault-held-webhook-secret');
    expect(s.get('ADMIN_TOKENS')).toBe('ops:write:vault-held-admin-token');
  });

  it('logs in with AppRole, renews before expiry, and logs in again when renewal is refused', async () => {
    v.addAppRole({ roleName: 'short', roleId: 'r-short', secretId: 's-short', tokenTtlSec: 3, tokenMaxTtlSec: 4, policies: ['runnerhub-read'] });
    const logins = () => v.requests.filter((r) => r.path === '/v1/auth/approle/login' && r.status === 200).length;
    const before = logins();
    const s = await loadSecrets(specs, { env: vaultEnv({ VAULT_ROLE_ID: 'r-short', VAULT_SECRET_ID: 's-short' }), secretsDir: emptyDir });
    open.push(s);
    expect(logins()).toBe(before + 1);
    // TTL 3 s: renewal at about 2 s; the max TTL of 4 s then caps it, and the token runs out, so the
    // client must log in again on its own.
    await waitFor(() => v.requests.some((r) => r.path === '/v1/auth/token/renew-self'), { timeoutMs: 10_000, what: 'a token renewal' });
    await waitFor(() => logins() >= before + 2, { timeoutMs: 15_000, what: 'a fresh AppRole login after renewal was refused' });
    await s.refresh();
    expect(s.get('GITHUB_WEBHOOK_SECRET')).toBe('vault-held-webhook-secret');
  }, 30_000);

  it('logs in again when a read meets an expired token', async () => {
    v.addAppRole({ roleName: 'long', roleId: 'r-long', secretId: 's-long', tokenTtlSec: 600, tokenMaxTtlSec: 1200, policies: ['runnerhub-read'] });
    const s = await loadSecrets(specs, { env: vaultEnv({ VAULT_ROLE_ID: 'r-long', VAULT_SECRET_ID: 's-long' }), secretsDir: emptyDir });
    open.push(s);
    v.clock.advance(601_000);
    v.kv.put('runnerhub', { GITHUB_WEBHOOK_SECRET: 'rotated-webhook-secret' });
    await s.refresh();
    expect(s.get('GITHUB_WEBHOOK_SECRET')).toBe('rotated-webhook-secret');
    v.kv.put('runnerhub', { GITHUB_WEBHOOK_SECRET: 'vault-held-webhook-secret', ADMIN_TOKENS: 'ops:write:vault-held-admin-token' });
  });

  it('rides out a few 503s from Vault', async () => {
    const token = v.createToken({ policies: ['runnerhub-read'], ttlSec: 3600 });
    v.chaos.failNext(3);
    const s = await loadSecrets(specs, { env: vaultEnv({ VAULT_TOKEN: token }), secretsDir: emptyDir });
    open.push(s);
    expect(s.get('GITHUB_WEBHOOK_SECRET')).toBe('vault-held-webhook-secret');
  });

  it('says clearly when the AppRole secret_id is wrong', async () => {
    await expect(loadSecrets(specs, { env: vaultEnv({ VAULT_ROLE_ID: 'r-long', VAULT_SECRET_ID: 'wrong' }), secretsDir: emptyDir })).rejects.toThrow(
      /Vault AppRole login: Vault answered 400: invalid role or secret ID/,
    );
  });

  it('never logs a secret value', async () => {
    const { entries, log } = recordingLog();
    v.addAppRole({ roleName: 'logged', roleId: 'r-log', secretId: 's-log-secret-id', tokenTtlSec: 600, tokenMaxTtlSec: 1200, policies: ['runnerhub-read'] });
    v.chaos.failNext(1);
    const s = await loadSecrets(specs, { env: vaultEnv({ VAULT_ROLE_ID: 'r-log', VAULT_SECRET_ID: 's-log-secret-id' }), secretsDir: emptyDir, log });
    open.push(s);
    const written = JSON.stringify(entries);
    expect(entries.length).toBeGreaterThan(0);
    for (const value of [...s.values(), 's-log-secret-id']) expect(written).not.toContain(value);
  });
});
