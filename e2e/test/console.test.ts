import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@runnerhub/testing';
import { RUNNER_IMAGES, startPlatform, type Platform } from '../src/index.js';

// The web console in a real browser (Debian's Chromium through playwright-core) against the whole
// platform: sign in, watch jobs live without reloading, drain and resume a pool, replay a dead
// letter, a read token that cannot act and forged CSRF tokens refused, and the GitHub App manifest
// flow against the simulator down to the stored key. The run writes the screenshots in docs/.

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const READ_TOKEN = `e2e-viewer-${process.pid}-0123456789`;
const SHOTS = join(repoRoot, 'docs', 'images');

describe('the web console in a browser', () => {
  let platform: Platform;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const secretsDir = join(mkdtempSync(join(tmpdir(), 'e2e-console-')), 'secrets');

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:
  - name: small
    repository: acme/app
    labels: [small]
    image: ${RUNNER_IMAGES.fake}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 2
    idleTimeoutSeconds: 5
`,
      extraAdminTokens: [`viewer:read:${READ_TOKEN}`],
      env: { metrics: { CONSOLE_SECRETS_DIR: secretsDir, CONSOLE_GRAFANA_URL: 'http://grafana.invalid:3000' } },
    });
    base = `${platform.services.metrics!.url}/console`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const signIn = async (p: Page, token: string) => {
    await p.goto(base);
    // Without a session the console sends the browser to its sign-in form.
    await p.waitForURL(/\/console\/login/);
    await p.getByLabel('Admin token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(`${base}`);
  };
  const row = (selector: string) => page.locator(selector);

  it('signs in with a write token on a page under 200 KB, shows the pools and services, and links to Grafana', async () => {
    const bytes: number[] = [];
    page.on('response', (r) => void r.body().then((b) => bytes.push(b.length)).catch(() => undefined));
    await signIn(page, platform.token);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'rh_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    await expect.poll(() => bytes.length).toBeGreaterThanOrEqual(3);
    expect(bytes.reduce((a, b) => a + b, 0)).toBeLessThan(200_000);
    await row('tr[data-pool=small]').waitFor();
    await expect.poll(() => row('tr[data-service=scheduler]').textContent()).toContain('ready');
    expect(await page.getByRole('link', { name: /Grafana/ }).first().getAttribute('href')).toBe('http://grafana.invalid:3000');
  }, 60_000);

  it('drains a pool so that no runner starts, shows the waiting job and why, then resumes it and the job turns running and completed without a reload', async () => {
    const { sim } = platform;
    await row('tr[data-pool=small]').getByRole('button', { name: 'Drain' }).click();
    await page.getByText('Pool small is drained.').waitFor();
    await row('tr[data-pool=small]').getByText('drained').waitFor();
    // From here on nothing reloads the page: a marker on window would be lost.
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'small'], durationMs: 3_000 });
    const waiting = row(`section[aria-labelledby=h-waiting] tr[data-job="${job.id}"]`);
    await waiting.waitFor({ timeout: 30_000 });
    await expect.poll(() => waiting.locator('.why').textContent(), { timeout: 15_000 }).toMatch(/drain/i);
    expect((await platform.containers()).filter((c) => c.pool === 'small')).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'console-now.png') });

    await row('tr[data-pool=small]').getByRole('button', { name: 'Resume' }).click();
    await page.getByText('Pool small serves again.').waitFor();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 2));
    const recent = page.locator(`section[aria-labelledby=h-recent] tr[data-job="${job.id}"] .state`);
    await expect.poll(() => recent.textContent(), { timeout: 60_000, interval: 100 }).toContain('in_progress');
    await expect.poll(() => recent.textContent(), { timeout: 60_000 }).toContain('success');
    expect(await page.evaluate(() => (globalThis as unknown as { marker: number }).marker)).toBe(2);
    expect(sim.job(job.id)).toMatchObject({ status: 'completed', conclusion: 'success', runnerName: expect.stringMatching(/^rh-small-/) as unknown });
  }, 120_000);

  it("shows the why of a job no pool serves, live", async () => {
    const job = platform.sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'gpu', 'small'] });
    const waiting = page.locator(`section[aria-labelledby=h-waiting] tr[data-job="${job.id}"] .why`);
    await expect.poll(() => waiting.textContent().catch(() => ''), { timeout: 30_000 }).toContain('gpu');
    platform.sim.cancelJob(job.id);
  }, 60_000);

  it('shows a dead letter as it arrives and replays it', async () => {
    const h = natsHeaders();
    h.set('rh-schema', 'runnerhub.v1.JobStuck');
    await jetstream(platform.nc).publish('job.stuck', new Uint8Array([0xff, 0xff, 0xff]), { msgID: `console-poison-${process.pid}`, headers: h });
    const letter = page.locator('section[aria-labelledby=h-dead] tr[data-dead]').first();
    await letter.waitFor({ timeout: 30_000 });
    const seq = await letter.getAttribute('data-dead');
    await letter.getByRole('button', { name: 'Replay' }).click();
    await page.getByText(`Dead letter ${seq} was replayed.`).waitFor();
    expect((await platform.api('metrics', `/api/dead-letters/${seq}`)).status).toBe(404);
  }, 60_000);

  it('shows the history and one job with its timeline and trace id', async () => {
    await page.getByRole('link', { name: 'History' }).click();
    const done = page.locator('tr[data-job]').filter({ hasText: 'success' }).first();
    await done.waitFor();
    expect(await done.textContent()).toContain('small');
    await page.screenshot({ path: join(SHOTS, 'console-history.png') });
    await done.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    expect(await page.locator('dd code').textContent()).toMatch(/^[0-9a-f]{32}$/);
    expect(await page.locator('main table').textContent()).toContain('completed');
  }, 60_000);

  it('refuses writes with a read token, and writes with a forged or missing CSRF token', async () => {
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const act = (c: BrowserContext, form: Record<string, string>) => c.request.post(`${base}/act`, { form: { action: 'pool-drain', target: 'small', confirm: 'yes', ...form }, maxRedirects: 0 });
    expect((await act(context, {})).status()).toBe(403);
    expect((await act(context, { _csrf: 'forged-0123456789' })).status()).toBe(403);
    expect((await act(context, { _csrf: csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A') })).status()).toBe(403);
    // A bearer token of the wrong kind never falls back to the cookie.
    expect((await context.request.get(base, { headers: { authorization: 'Bearer wrong-0123456789abcdef' } })).status()).toBe(401);

    const viewer = await browser.newContext();
    const p = await viewer.newPage();
    await signIn(p, READ_TOKEN);
    await p.locator('tr[data-pool=small]').waitFor();
    expect(await p.getByRole('button', { name: 'Drain' }).count()).toBe(0);
    const viewerCsrf = await p.locator('input[name=_csrf]').first().inputValue();
    const refused = await act(viewer, { _csrf: viewerCsrf });
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toContain('scope');
    expect((await p.goto(`${base}/setup`))?.status()).toBe(403);
    await viewer.close();
    // Nothing changed.
    const pool = await platform.api<{ drained: boolean }>('pool-manager', '/api/pools/small');
    expect(pool.body.drained).toBe(false);
  }, 60_000);

  it('fits a phone and follows its dark mode', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', deviceScaleFactor: 1 });
    const p = await phone.newPage();
    await signIn(p, platform.token);
    await p.locator('tr[data-pool=small]').waitFor();
    // Dark background from prefers-color-scheme, and no page-wide horizontal scrolling (tables scroll in their own box).
    expect(await p.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
    expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await p.screenshot({ path: join(SHOTS, 'console-phone-dark.png') });
    await phone.close();
  }, 60_000);

  it('creates the GitHub App from a manifest at the simulator and stores its id, key and webhook secret as 0600 files', async () => {
    await page.goto(`${base}/setup`);
    await page.getByLabel('Public URL of the webhook-gateway').fill('https://runners.example.org');
    await page.screenshot({ path: join(SHOTS, 'console-setup.png') });
    await page.getByRole('button', { name: 'Create the App on GitHub' }).click();
    await page.getByRole('heading', { name: 'GitHub App created' }).waitFor({ timeout: 30_000 });
    const { sim } = platform;
    const key = join(secretsDir, 'github_app_private_key');
    expect(readFileSync(key, 'utf8').trim()).toBe(sim.app.privateKey.trim());
    expect(readFileSync(join(secretsDir, 'github_app_id'), 'utf8').trim()).toBe(String(sim.app.id));
    for (const name of ['github_app_id', 'github_app_private_key', 'github_webhook_secret']) expect(statSync(join(secretsDir, name)).mode & 0o777, name).toBe(0o600);
    // Exactly docs/github-app.md's permissions and events, and the installation the App sees.
    expect(await page.locator('dd.permissions').textContent()).toBe('actions: read, administration: write, checks: write, metadata: read, organization_self_hosted_runners: write');
    expect(await page.locator('dd.events').textContent()).toBe('workflow_job, workflow_run');
    expect(await page.locator('ul.installations').textContent()).toContain('acme');
    expect(sim.violations()).toEqual([]);
  }, 60_000);
});
