import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createGitHubClient, listInstallations, type Installation } from '@runnerhub/github';

/**
 * One-click GitHub App setup: GitHub's App manifest flow. The console posts a manifest with exactly
 * the permissions and events of docs/github-app.md to GitHub (the browser carries it), GitHub sends
 * the browser back with a code, and the console exchanges it at `POST /app-manifests/{code}/conversions`
 * for the App's id, private key and webhook secret, which it writes as files of mode 0600 into the
 * deployment's secrets folder, the names the services read (docs/security.md), then lists the
 * installations the new App sees.
 */

/** docs/github-app.md, "Repository permissions" and "Organization permissions". */
export const APP_PERMISSIONS = {
  actions: 'read',
  administration: 'write',
  checks: 'write',
  metadata: 'read',
  organization_self_hosted_runners: 'write',
} as const;
/** docs/github-app.md, "Subscribe to events". */
export const APP_EVENTS = ['workflow_job', 'workflow_run'] as const;

/** The files written, as the services look for them under their secrets folder. */
export const SECRET_FILES = { appId: 'github_app_id', privateKey: 'github_app_private_key', webhookSecret: 'github_webhook_secret' } as const;

export type IntakeMode = 'webhook' | 'scale-set';

export interface ManifestRequest {
  /** An organization login, or empty for the person's own account. */
  org: string;
  /** Where GitHub reaches the webhook-gateway (https://…); required for the webhook mode. */
  publicUrl: string;
  mode: IntakeMode;
  /** Where the browser reaches this console (the redirect back). */
  consoleOrigin: string;
}

export class SetupError extends Error {}

const ORG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

export function buildManifest(r: ManifestRequest): { action: string; manifest: string } {
  if (r.org && !ORG.test(r.org)) throw new SetupError(`"${r.org}" is not a GitHub account name`);
  const webhook = r.mode === 'webhook';
  let hookUrl: string | undefined;
  if (r.publicUrl) {
    if (!URL.canParse(r.publicUrl) || !/^https?:$/.test(new URL(r.publicUrl).protocol)) throw new SetupError('the public URL must be an http(s) URL');
    hookUrl = `${r.publicUrl.replace(/\/+$/, '')}/webhooks/github`;
  } else if (webhook) {
    throw new SetupError('the webhook mode needs the public URL where GitHub reaches the webhook-gateway (or choose the scale-set mode)');
  }
  const manifest = {
    name: `RunnerHub${r.org ? ` ${r.org}` : ''}`.slice(0, 34),
    url: r.publicUrl || r.consoleOrigin,
    description: 'Runs GitHub Actions jobs in single-use containers on your own hardware (RunnerHub).',
    redirect_url: `${r.consoleOrigin}/console/setup/callback`,
    public: false,
    hook_attributes: { url: hookUrl ?? `${r.consoleOrigin}/webhooks/github`, active: webhook },
    default_permissions: APP_PERMISSIONS,
    default_events: APP_EVENTS,
  };
  return { action: r.org ? `/organizations/${encodeURIComponent(r.org)}/settings/apps/new` : '/settings/apps/new', manifest: JSON.stringify(manifest) };
}

export const newState = () => randomBytes(24).toString('base64url');

export interface Conversion {
  id: number;
  slug: string;
  htmlUrl: string;
  pem: string;
  webhookSecret: string | null;
  permissions: Record<string, string>;
  events: string[];
}

export async function convert(apiUrl: string, code: string): Promise<Conversion> {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(code)) throw new SetupError('the code GitHub sent back is malformed');
  const response = await fetch(`${apiUrl.replace(/\/$/, '')}/app-manifests/${code}/conversions`, {
    method: 'POST',
    headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'RunnerHub' },
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await response.json().catch(() => ({}))) as { id?: number; slug?: string; html_url?: string; pem?: string; webhook_secret?: string | null; permissions?: Record<string, string>; events?: string[]; message?: string };
  if (response.status !== 201 || typeof body.id !== 'number' || typeof body.pem !== 'string') {
    throw new SetupError(`GitHub did not convert the code (HTTP ${response.status}${body.message ? `: ${body.message}` : ''}); codes work once, within an hour: start again`);
  }
  return { id: body.id, slug: body.slug ?? '', htmlUrl: body.html_url ?? '', pem: body.pem, webhookSecret: body.webhook_secret ?? null, permissions: body.permissions ?? {}, events: body.events ?? [] };
}

/** Writes the App's secrets, each readable by this user only (0600), in a folder only it can enter. */
export async function storeSecrets(dir: string, c: Conversion): Promise<string[]> {
  const files: [string, string][] = [
    [SECRET_FILES.appId, String(c.id)],
    [SECRET_FILES.privateKey, c.pem],
    ...(c.webhookSecret ? ([[SECRET_FILES.webhookSecret, c.webhookSecret]] as [string, string][]) : []),
  ];
  const written: string[] = [];
  try {
    await writeAll(dir, files, written);
  } catch (error) {
    throw new SetupError(`cannot store the App's secrets in ${dir} (${(error as Error).message}); the App exists at GitHub: generate a private key on its page, or make the folder writable and start again`);
  }
  return written;
}


async function writeAll(dir: string, files: [string, string][], written: string[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [name, value] of files) {
    const path = join(dir, name);
    await writeFile(path, value.endsWith('\n') ? value : `${value}\n`, { mode: 0o600 });
    // An existing file keeps its mode on write: set it.
    await chmod(path, 0o600);
    written.push(path);
  }
}

export async function installationsOf(apiUrl: string, c: Conversion, redis: Redis): Promise<Installation[]> {
  const gh = createGitHubClient({ baseUrl: apiUrl, appId: c.id, privateKey: c.pem, redis, keyPrefix: `runnerhub:console-setup:${c.id}` });
  const found: Installation[] = [];
  for await (const installation of listInstallations(gh)) {
    found.push(installation);
    if (found.length >= 100) break;
  }
  return found;
}
