import { randomBytes } from 'node:crypto';
import formBody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SimClock } from './clock.js';
import type { Account } from './world.js';

/**
 * The GitHub App manifest flow (docs "Registering a GitHub App from a manifest"): the browser posts
 * a form with `manifest` (JSON) to `/settings/apps/new?state=…` (or
 * `/organizations/{org}/settings/apps/new?state=…`), GitHub registers the App and sends the browser
 * back to the manifest's `redirect_url` with `?code=…&state=…`; the code, once, within an hour, is
 * exchanged at `POST /app-manifests/{code}/conversions` (github-routes.ts). GitHub shows a page
 * to name the App in between; the simulator redirects at once. It has one App: a conversion gives
 * that App the manifest's name, URLs, permissions and events, a new webhook secret and client
 * secret, and returns its id and key.
 */

export interface Manifest {
  name: string;
  url: string;
  redirectUrl: string;
  description: string | null;
  hookUrl: string | null;
  defaultPermissions: Record<string, 'read' | 'write'> | null;
  defaultEvents: string[] | null;
}

export interface PendingManifest {
  manifest: Manifest;
  /** The organization of the org flow; null for the account flow. */
  org: Account | null;
  expiresAt: number;
}

/** "You must complete this step within one hour" (GitHub docs, manifest flow step 3). */
const CODE_LIFETIME_MS = 3_600_000;

export class ManifestError extends Error {}

/** The fields the simulator uses, checked as GitHub would refuse them (422 on the page). */
export function parseManifest(text: string | undefined): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    throw new ManifestError('manifest must be a JSON object (form field "manifest")');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ManifestError('manifest must be a JSON object');
  const m = raw as Record<string, unknown>;
  const url = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || !URL.canParse(value)) throw new ManifestError(`${field} must be a URL`);
    return value;
  };
  const hook = m['hook_attributes'] as { url?: unknown; active?: unknown } | undefined;
  if (hook !== undefined && (typeof hook !== 'object' || hook === null)) throw new ManifestError('hook_attributes must be an object');
  const permissions = m['default_permissions'];
  if (permissions !== undefined && (typeof permissions !== 'object' || permissions === null || Object.values(permissions).some((v) => v !== 'read' && v !== 'write'))) {
    throw new ManifestError('default_permissions must map permission names to read or write');
  }
  const events = m['default_events'];
  if (events !== undefined && (!Array.isArray(events) || events.some((e) => typeof e !== 'string'))) throw new ManifestError('default_events must be an array of event names');
  if (m['name'] !== undefined && (typeof m['name'] !== 'string' || m['name'].length === 0 || m['name'].length > 34)) {
    throw new ManifestError('name must be 1 to 34 characters');
  }
  return {
    name: m['name'] ?? 'RunnerHub',
    url: url('url', m['url']),
    redirectUrl: url('redirect_url', m['redirect_url']),
    description: typeof m['description'] === 'string' ? m['description'] : null,
    hookUrl: hook && hook.active !== false ? url('hook_attributes.url', hook.url) : null,
    defaultPermissions: (permissions as Record<string, 'read' | 'write'> | undefined) ?? null,
    defaultEvents: (events as string[] | undefined) ?? null,
  };
}

export class AppManifests {
  private readonly pending = new Map<string, PendingManifest>();

  constructor(
    private readonly clock: SimClock,
    private readonly orgNamed: (login: string) => Account | undefined,
  ) {}

  register(server: FastifyInstance): void {
    void server.register(async (scope) => {
      await scope.register(formBody);
      scope.post('/settings/apps/new', (request, reply) => this.start(request.query, request.body, null, reply));
      scope.post('/organizations/:org/settings/apps/new', (request, reply) => {
        const login = (request.params as { org: string }).org;
        const org = this.orgNamed(login);
        if (!org) return reply.code(404).type('text/html').send(page('Not Found', `There is no organization ${login}.`));
        return this.start(request.query, request.body, org, reply);
      });
    });
  }

  /** The code's manifest, once: a second use, an unknown or an expired code is undefined (404). */
  take(code: string): PendingManifest | undefined {
    const found = this.pending.get(code);
    this.pending.delete(code);
    return found && found.expiresAt > this.clock.now() ? found : undefined;
  }

  private start(query: unknown, body: unknown, org: Account | null, reply: FastifyReply): FastifyReply {
    const form = (body ?? {}) as Record<string, unknown>;
    let manifest: Manifest;
    try {
      manifest = parseManifest(typeof form['manifest'] === 'string' ? form['manifest'] : undefined);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return reply.code(422).type('text/html').send(page('Invalid GitHub App manifest', error.message));
    }
    const code = randomBytes(20).toString('hex');
    this.pending.set(code, { manifest, org, expiresAt: this.clock.now() + CODE_LIFETIME_MS });
    const target = new URL(manifest.redirectUrl);
    target.searchParams.set('code', code);
    const state = (query as { state?: unknown }).state;
    if (typeof state === 'string') target.searchParams.set('state', state);
    return reply.redirect(target.toString(), 302);
  }
}

function page(title: string, text: string): string {
  const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html><title>${escape(title)}</title><h1>${escape(title)}</h1><p>${escape(text)}</p>`;
}
