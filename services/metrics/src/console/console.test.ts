import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { APP_EVENTS, APP_PERMISSIONS, buildManifest, SetupError, storeSecrets } from './app-setup.js';
import { html } from './html.js';
import { safeNext } from './routes.js';

describe('console pieces', () => {
  it('asks GitHub for exactly the permissions and events of docs/github-app.md, webhook on or off', () => {
    const doc = readFileSync(new URL('../../../../docs/github-app.md', import.meta.url), 'utf8');
    for (const words of ['Actions: Read', 'Administration: Read and write', 'Checks: Read and write', 'Metadata: Read', 'Self-hosted runners: Read and write', '**Workflow job** and **Workflow run**']) expect(doc).toContain(words);
    const hook = JSON.parse(buildManifest({ org: 'acme', publicUrl: 'https://runners.example.org/', mode: 'webhook', consoleOrigin: 'http://nas:8085' }).manifest) as Record<string, unknown>;
    expect(hook).toMatchObject({
      default_permissions: APP_PERMISSIONS,
      default_events: APP_EVENTS,
      hook_attributes: { url: 'https://runners.example.org/webhooks/github', active: true },
      redirect_url: 'http://nas:8085/console/setup/callback',
      public: false,
    });
    expect(buildManifest({ org: 'acme', publicUrl: '', mode: 'scale-set', consoleOrigin: 'http://nas:8085' }).action).toBe('/organizations/acme/settings/apps/new');
    const scaleSet = JSON.parse(buildManifest({ org: '', publicUrl: '', mode: 'scale-set', consoleOrigin: 'http://nas:8085' }).manifest) as { hook_attributes: { active: boolean } };
    expect(scaleSet.hook_attributes.active).toBe(false);
  });

  it('refuses a manifest it cannot make, with the reason', () => {
    expect(() => buildManifest({ org: '', publicUrl: '', mode: 'webhook', consoleOrigin: 'http://nas:8085' })).toThrow(/public URL/);
    expect(() => buildManifest({ org: 'a/../b', publicUrl: '', mode: 'scale-set', consoleOrigin: 'http://x' })).toThrow(SetupError);
    expect(() => buildManifest({ org: '', publicUrl: 'javascript:alert(1)', mode: 'webhook', consoleOrigin: 'http://x' })).toThrow(/http/);
  });

  it('writes the secrets as 0600 files, an existing file too', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'console-secrets-')), 'secrets');
    const written = await storeSecrets(dir, { id: 7, slug: 's', htmlUrl: '', pem: 'PEM', webhookSecret: 'w', permissions: {}, events: [] });
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual(['github_app_id', 'github_app_private_key', 'github_webhook_secret']);
    writeFileSync(join(dir, 'github_app_id'), 'old', { mode: 0o644 });
    await storeSecrets(dir, { id: 8, slug: 's', htmlUrl: '', pem: 'PEM', webhookSecret: null, permissions: {}, events: [] });
    expect(readFileSync(join(dir, 'github_app_id'), 'utf8')).toBe('8\n');
    for (const p of written) expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('sends the browser after sign-in only to a console page', () => {
    expect(safeNext('/console/history')).toBe('/console/history');
    expect(safeNext('/console?done=x')).toBe('/console?done=x');
    for (const bad of ['//evil.example/console', 'https://evil.example/', '/consolex', '/console/\\evil', '/api/pools', undefined, 7]) expect(safeNext(bad)).toBe('/console');
    fc.assert(
      fc.property(fc.string(), (s) => {
        const next = safeNext(s);
        expect(next === '/console' || /^\/console[/?]/.test(next)).toBe(true);
        expect(new URL(next, 'http://nas:8085').origin).toBe('http://nas:8085');
      }),
    );
  });

  it('escapes whatever a service or a job name says', () => {
    const unescape = (t: string) => t.replace(/&(lt|gt|quot|#39|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
    fc.assert(
      fc.property(fc.string(), (s) => {
        const inner = html`${s}`.text;
        expect(inner).not.toMatch(/[<>"']/);
        expect(unescape(inner)).toBe(s);
      }),
    );
    expect(html`${'<script>x</script>'}`.text).toBe('&lt;script&gt;x&lt;/script&gt;');
  });
});
