import { AppJwt } from '@runnerhub/github';
import type { Finding } from './findings.js';

/**
 * GitHub as the App sees it: reachable, the clock agrees with GitHub's (the App's JWT is refused
 * past a minute of skew), the App's permissions and webhook events are those docs/github-app.md
 * lists, and webhooks arrive.
 */

export interface GitHubTarget {
  apiUrl: string;
  appId: number;
  clientId?: string;
  privateKey: string;
}

/** docs/github-app.md "1. Create the App"; test/app-requirements.test.ts keeps both in step. */
export const APP_PERMISSIONS: ReadonlyArray<{ name: string; level: 'read' | 'write'; need: 'required' | 'repository pools' | 'organization pools' | 'optional'; why: string; setting: string }> = [
  { name: 'actions', level: 'read', need: 'required', why: 'workflow_job and workflow_run events; the missed-job reconciler', setting: 'Actions: Read' },
  { name: 'metadata', level: 'read', need: 'required', why: 'GitHub sets it', setting: 'Metadata: Read' },
  { name: 'administration', level: 'write', need: 'repository pools', why: 'registering JIT runners for a repository', setting: 'Administration: Read and write' },
  { name: 'organization_self_hosted_runners', level: 'write', need: 'organization pools', why: 'registering JIT runners for an organization', setting: 'Self-hosted runners: Read and write' },
  { name: 'checks', level: 'write', need: 'optional', why: "the status-reporter's check runs", setting: 'Checks: Read and write' },
];
export const APP_EVENTS = ['workflow_job', 'workflow_run'] as const;
/** The events as the App settings page names them. */
export const APP_EVENT_SETTINGS = ['Workflow job', 'Workflow run'] as const;

/** Seconds of skew the App's JWT survives: its `iat` is backdated 60 s. */
const SKEW_FAIL_SECONDS = 60;
const SKEW_WARN_SECONDS = 10;

interface Timed {
  status: number;
  body: unknown;
  /** Our clock minus GitHub's, in seconds, from the Date header at the request's midpoint. */
  skewSeconds: number | undefined;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Timed> {
  const sent = Date.now();
  const response = await fetch(url, { headers: { accept: 'application/vnd.github+json', 'user-agent': 'runnerhub-doctor', 'x-github-api-version': '2022-11-28', ...headers }, signal: AbortSignal.timeout(15_000) });
  const received = Date.now();
  const date = Date.parse(response.headers.get('date') ?? '');
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  // The Date header has whole seconds: half a second of its own rounding is not skew.
  return { status: response.status, body, skewSeconds: Number.isFinite(date) ? Math.round(((sent + received) / 2 - (date + 500)) / 1000) : undefined };
}

const levelRank = { read: 1, write: 2 } as const;

/** Permissions and events of `GET /app` against the list above. */
export function appSettingFindings(app: { permissions?: Record<string, string>; events?: string[] }): Finding[] {
  const findings: Finding[] = [];
  const has = app.permissions ?? {};
  for (const p of APP_PERMISSIONS) {
    const granted = has[p.name] as 'read' | 'write' | undefined;
    const enough = granted !== undefined && levelRank[granted] >= levelRank[p.level];
    if (enough) continue;
    const level = p.need === 'required' ? 'failure' : p.need === 'optional' ? 'info' : 'warning';
    findings.push({
      check: 'github.permissions',
      level,
      message: `the App has ${p.name}: ${granted ?? 'none'}, ${p.need === 'required' ? 'needs' : `${p.need} need`} ${p.level} (${p.why})`,
      fix: `App settings → Permissions & events → ${p.setting}; then accept the new permission on each installation`,
    });
  }
  if (findings.length === 0) findings.push({ check: 'github.permissions', level: 'ok', message: `the App has ${APP_PERMISSIONS.map((p) => `${p.name}: ${p.level}`).join(', ')}` });
  const missing = APP_EVENTS.filter((e) => !(app.events ?? []).includes(e));
  findings.push(
    missing.length === 0
      ? { check: 'github.events', level: 'ok', message: `the App subscribes to ${APP_EVENTS.join(' and ')}` }
      : { check: 'github.events', level: 'failure', message: `the App does not subscribe to ${missing.join(', ')}: no job reaches RunnerHub`, fix: 'App settings → Permissions & events → Subscribe to events: Workflow job and Workflow run' },
  );
  return findings;
}

export async function githubFindings(target: GitHubTarget | undefined, apiUrl: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  let meta: Timed;
  try {
    meta = await get(`${apiUrl.replace(/\/+$/, '')}/meta`);
  } catch (error) {
    return [{ check: 'github.reachable', level: 'failure', message: `${apiUrl} does not answer: ${(error as Error).message}`, fix: 'check DNS and the outbound firewall of this host (GitHub must be reachable over HTTPS)' }];
  }
  findings.push({ check: 'github.reachable', level: meta.status === 200 ? 'ok' : 'failure', message: `GET ${apiUrl}/meta answered ${meta.status}` });
  const skew = meta.skewSeconds;
  if (skew === undefined) findings.push({ check: 'clock', level: 'warning', message: 'GitHub sent no Date header: the clock was not compared' });
  else {
    const off = Math.abs(skew);
    const direction = skew > 0 ? 'ahead of' : 'behind';
    const level = off >= SKEW_FAIL_SECONDS ? 'failure' : off >= SKEW_WARN_SECONDS ? 'warning' : 'ok';
    findings.push({
      check: 'clock',
      level,
      message: off < 1 ? "this host's clock agrees with GitHub's" : `this host's clock is ${off} s ${direction} GitHub's${level === 'failure' ? ": GitHub refuses the App's JWT (its iat/exp) and runners' tokens" : ''}`,
      ...(level === 'ok' ? {} : { fix: 'turn on time sync (DSM: Control Panel → Regional Options → NTP; Linux: timedatectl set-ntp true)' }),
    });
  }
  if (!target) {
    findings.push({ check: 'github.app', level: 'info', message: 'no GitHub App configured (GITHUB_APP_ID): its permissions and events were not checked', fix: 'docs/github-app.md; then run the doctor again with GITHUB_APP_ID and the key' });
    return findings;
  }
  const jwt = await new AppJwt(target.clientId ?? target.appId, target.privateKey).token();
  const app = await get(`${target.apiUrl.replace(/\/+$/, '')}/app`, { authorization: `Bearer ${jwt}` });
  if (app.status !== 200) {
    const message = (app.body as { message?: string } | undefined)?.message ?? String(app.body);
    findings.push({ check: 'github.app', level: 'failure', message: `GET /app with the App's JWT answered ${app.status}: ${message}`, fix: app.status === 401 ? 'check GITHUB_APP_ID (or GITHUB_APP_CLIENT_ID) and that the private key is the App\'s current one; a skewed clock gives 401 too' : 'check GITHUB_API_URL' });
    return findings;
  }
  const body = app.body as { slug?: string; permissions?: Record<string, string>; events?: string[] };
  findings.push({ check: 'github.app', level: 'ok', message: `the App ${body.slug ?? target.appId} answers with its JWT` });
  findings.push(...appSettingFindings(body));
  const installations = await get(`${target.apiUrl.replace(/\/+$/, '')}/app/installations`, { authorization: `Bearer ${jwt}` });
  const count = Array.isArray(installations.body) ? installations.body.length : 0;
  findings.push(
    count > 0
      ? { check: 'github.installations', level: 'ok', message: `installed on ${count} account${count === 1 ? '' : 's'}` }
      : { check: 'github.installations', level: 'failure', message: 'the App is installed nowhere: it receives no job', fix: 'App page → Install App → the account or organization whose jobs RunnerHub runs' },
  );
  findings.push(...(await deliveryFindings(target, jwt)));
  return findings;
}

/** GitHub's own view of whether webhooks arrive: the App's latest deliveries, seen from outside. */
async function deliveryFindings(target: GitHubTarget, jwt: string): Promise<Finding[]> {
  const deliveries = await get(`${target.apiUrl.replace(/\/+$/, '')}/app/hook/deliveries?per_page=10`, { authorization: `Bearer ${jwt}` });
  if (deliveries.status !== 200 || !Array.isArray(deliveries.body)) return [{ check: 'webhook.deliveries', level: 'info', message: `the App's recent deliveries could not be read (${deliveries.status})` }];
  const recent = deliveries.body as Array<{ status_code: number; status: string; delivered_at: string; event: string }>;
  if (recent.length === 0) return [{ check: 'webhook.deliveries', level: 'info', message: 'GitHub has sent the App no webhook yet', fix: "App settings → Advanced → Recent deliveries → redeliver the ping, or start a workflow with runs-on: self-hosted" }];
  const failed = recent.filter((d) => d.status_code < 200 || d.status_code >= 300);
  const last = recent[0]!;
  if (failed.length === 0) return [{ check: 'webhook.deliveries', level: 'ok', message: `GitHub's last ${recent.length} deliveries reached the gateway (latest ${last.event}, ${last.status_code})` }];
  return [
    {
      check: 'webhook.deliveries',
      level: failed.includes(last) ? 'failure' : 'warning',
      message: `${failed.length} of GitHub's last ${recent.length} deliveries failed (latest: ${last.event} → ${last.status_code || last.status})`,
      fix: 'the webhook URL must reach the webhook-gateway from the internet (reverse proxy or tunnel to :8080/webhooks/github); see docs/operations.md "On a NAS"',
    },
  ];
}

/** Whether the configured webhook URL answers: an unsigned POST must get the gateway's 401. */
export async function webhookUrlFindings(webhookUrl: string | undefined): Promise<Finding[]> {
  if (!webhookUrl) return [{ check: 'webhook.url', level: 'info', message: 'no webhook URL given (GITHUB_WEBHOOK_URL): not probed; GitHub\'s deliveries above say whether it reaches the gateway' }];
  try {
    const response = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'runnerhub-doctor', 'user-agent': 'runnerhub-doctor' },
      body: '{"zen":"doctor"}',
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 401) return [{ check: 'webhook.url', level: 'ok', message: `${webhookUrl} answers and refuses an unsigned delivery (401), as the gateway does` }];
    return [{ check: 'webhook.url', level: 'warning', message: `${webhookUrl} answered ${response.status} to an unsigned delivery, where the gateway answers 401`, fix: 'point the URL (and your reverse proxy) at the webhook-gateway: https://<host>/webhooks/github → :8080' }];
  } catch (error) {
    return [{ check: 'webhook.url', level: 'failure', message: `${webhookUrl} does not answer from here: ${(error as Error).message}`, fix: 'check the reverse proxy or tunnel in front of the webhook-gateway (:8080)' }];
  }
}
