import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { duration } from '../src/cli.js';
import { resolveSettings } from '../src/config.js';
import { EXIT } from '../src/errors.js';

const dir = () => mkdtempSync(join(tmpdir(), 'runnerhub-cli-'));

describe('where the CLI finds the services and its token', () => {
  it('puts every service on its usual port of RUNNERHUB_URL, and a service variable overrides one', () => {
    const s = resolveSettings({}, { RUNNERHUB_URL: 'http://nas.local', RUNNERHUB_POOL_MANAGER_URL: 'http://other:9000/', RUNNERHUB_TOKEN: 'x'.repeat(20) }, dir(), dir());
    expect(s.urls).toMatchObject({ 'webhook-gateway': 'http://nas.local:8080', scheduler: 'http://nas.local:8081', 'pool-manager': 'http://other:9000', metrics: 'http://nas.local:8085' });
    expect(s.tokenSource).toBe('$RUNNERHUB_TOKEN');
  });

  it('reads the profile make run writes, from the directory or one above; the environment wins over it', () => {
    const root = dir();
    mkdirSync(join(root, '.run'));
    mkdirSync(join(root, 'services', 'x'), { recursive: true });
    const profile = join(root, '.run', 'runnerhub.env');
    writeFileSync(profile, '# written by make run\nRUNNERHUB_URL=http://127.0.0.9\nRUNNERHUB_TOKEN="from-the-profile-0123"\n', { mode: 0o600 });
    const s = resolveSettings({}, {}, join(root, 'services', 'x'), dir());
    expect(s.profile).toBe(profile);
    expect(s.urls.scheduler).toBe('http://127.0.0.9:8081');
    expect(s.token).toBe('from-the-profile-0123');
    expect(resolveSettings({}, { RUNNERHUB_TOKEN: 'from-the-env-0123456' }, root, dir()).token).toBe('from-the-env-0123456');
    expect(resolveSettings({ token: 'from-the-flag-012345' }, { RUNNERHUB_TOKEN: 'from-the-env-0123456' }, root, dir()).token).toBe('from-the-flag-012345');
  });

  it('refuses a profile others can read, and says how to fix it', () => {
    const file = join(dir(), 'profile.env');
    writeFileSync(file, 'RUNNERHUB_TOKEN=secret-secret-secret\n');
    chmodSync(file, 0o644);
    expect(() => resolveSettings({ profile: file }, {}, dir(), dir())).toThrow(expect.objectContaining({ exitCode: EXIT.usage, message: expect.stringContaining(`chmod 600 ${file}`) as unknown }));
    expect(() => resolveSettings({}, { RUNNERHUB_PROFILE: join(dir(), 'missing.env') }, dir(), dir())).toThrow(/does not exist/);
  });

  it("uses the container's own write token when nothing else gives one (docker compose exec)", () => {
    const s = resolveSettings({}, { ADMIN_TOKENS: 'viewer:read:rrrrrrrrrrrrrrrrrr, ops:write:wwwwwwwwwwwwwwwwww' }, dir(), dir());
    expect(s.token).toBe('wwwwwwwwwwwwwwwwww');
    expect(s.tokenSource).toContain('"ops"');
    const file = join(dir(), 'admin_tokens');
    writeFileSync(file, 'ops:write:ffffffffffffffffff\n');
    expect(resolveSettings({}, { ADMIN_TOKENS_FILE: file }, dir(), dir()).token).toBe('ffffffffffffffffff');
  });

  it('reads durations as a person writes them', () => {
    expect([duration('90'), duration('90s'), duration('30m'), duration('2h'), duration('1d')]).toEqual([90, 90, 1800, 7200, 86_400]);
    expect(() => duration('0m')).toThrow();
    expect(() => duration('soon')).toThrow();
  });
});
