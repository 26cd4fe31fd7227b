import { verify } from '@octokit/webhooks-methods';
import { waitFor } from '@runnerhub/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGitHubSim, type GitHubSim } from '../src/index.js';
import { api, appJwt, startReceiver, type Receiver } from './helpers.js';

// The App manifest flow (app-manifests.ts): a browser form post, a redirect with a code, the
// conversion. A later web console drives it end to end the same way.

let sim: GitHubSim;
let receiver: Receiver;

beforeEach(async () => {
  receiver = await startReceiver();
  sim = await startGitHubSim();
  sim.createInstallation({ account: 'acme', repositories: ['app'] });
});

afterEach(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
  await receiver.close();
});

const manifest = (overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({
    name: 'RunnerHub NAS',
    url: 'https://nas.example/runnerhub',
    redirect_url: 'http://127.0.0.1:9/setup/github/callback?from=console',
    hook_attributes: { url: receiver.url },
    default_permissions: { administration: 'write', actions: 'read' },
    default_events: ['workflow_job'],
    ...overrides,
  });

async function post(path: string, form: string): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ manifest: form }).toString(),
    redirect: 'manual',
  });
}

async function codeFrom(response: Response): Promise<{ code: string; location: URL }> {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location')!);
  await response.arrayBuffer();
  return { code: location.searchParams.get('code')!, location };
}

describe('App manifest flow', () => {
  it('redirects back with a code and the state, and the conversion returns an App that works', async () => {
    const { code, location } = await codeFrom(await post('/settings/apps/new?state=st-123', manifest()));
    expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:9/setup/github/callback');
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('from')).toBe('console');

    const converted = await api<Record<string, unknown>>(sim, 'POST', `/app-manifests/${code}/conversions`, 'unused');
    expect(converted.status).toBe(201);
    expect(converted.body).toMatchObject({ id: sim.app.id, name: 'RunnerHub NAS', slug: 'runnerhub-nas', external_url: 'https://nas.example/runnerhub', events: ['workflow_job'] });
    expect(converted.body['permissions']).toEqual({ metadata: 'read', administration: 'write', actions: 'read' });
    expect(converted.body['pem']).toBe(sim.app.privateKey);
    expect(converted.body['client_secret']).toMatch(/^[0-9a-f]{40}$/);
    const webhookSecret = converted.body['webhook_secret'] as string;
    expect(webhookSecret).toBe(sim.webhook().secret);

    // The App now answers with its new identity, and sends webhooks where the manifest said, signed with the new secret.
    expect((await api<{ slug: string }>(sim, 'GET', '/app', await appJwt(sim))).body.slug).toBe('runnerhub-nas');
    await sim.ping();
    await waitFor(() => receiver.received.length === 1, { what: 'the ping' });
    const [ping] = receiver.received;
    expect(await verify(webhookSecret, ping!.body, String(ping!.headers['x-hub-signature-256']))).toBe(true);
  });

  it('takes a code once, and only within the hour', async () => {
    const { code } = await codeFrom(await post('/organizations/acme/settings/apps/new?state=s', manifest()));
    expect((await api(sim, 'POST', `/app-manifests/${code}/conversions`, 'unused')).status).toBe(201);
    expect((await api(sim, 'POST', `/app-manifests/${code}/conversions`, 'unused')).status).toBe(404);
    const late = await codeFrom(await post('/settings/apps/new', manifest()));
    sim.advanceClock(3_601_000);
    const expired = await api<{ message: string }>(sim, 'POST', `/app-manifests/${late.code}/conversions`, 'unused');
    expect(expired.status).toBe(404);
    expect(expired.body.message).toBe('Not Found');
  });

  it('refuses a manifest without url or redirect_url (422 page) and an organization it does not know (404)', async () => {
    const noUrl = await post('/settings/apps/new', manifest({ url: undefined }));
    expect(noUrl.status).toBe(422);
    expect(await noUrl.text()).toContain('url must be a URL');
    expect((await post('/settings/apps/new', 'not json')).status).toBe(422);
    expect((await post('/settings/apps/new', manifest({ redirect_url: 'nowhere' }))).status).toBe(422);
    expect((await post('/organizations/nobody/settings/apps/new', manifest())).status).toBe(404);
  });
});
