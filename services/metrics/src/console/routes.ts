import formBody from '@fastify/formbody';
import type { Redis } from 'ioredis';
import { jobTraceId, type HttpServer, type Logger, type Readiness, type Session, type Sessions } from '@runnerhub/platform';
import { Type } from '@sinclair/typebox';
import { buildManifest, convert, installationsOf, newState, SetupError, storeSecrets } from './app-setup.js';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.js';
import { html } from './html.js';
import { createLiveHub, type LiveHub } from './live.js';
import { loadNow, type Job, type Runner, type Why } from './model.js';
import { UpstreamError, type Upstreams } from './upstream.js';
import { BASE, confirmPage, historyPage, jobPage, layout, loginPage, nowPage, renderNow, type PageSettings, type TimelineStep, type Viewer } from './views.js';

/**
 * The web console under /console: a login form that exchanges an admin token for a session cookie,
 * the Now page (live over server-sent events), History, one job's timeline, the writes (each calls
 * the owning service's admin API as the signed-in person, after a confirmation), and the GitHub App
 * setup. Every route but the login form and the two static files is a session route of the chassis:
 * no session (or a bearer token) means 401, a write needs a write token and the CSRF token.
 */

export interface ConsoleSettings {
  upstreams: Upstreams;
  sessions: Sessions;
  readiness: Readiness;
  log: Logger;
  redis: Redis;
  grafanaUrl: string | undefined;
  /** GitHub's web address, where the browser posts the manifest. */
  githubUrl: string;
  githubApiUrl: string;
  /** Where the browser reaches the console; else from the request's Host. */
  publicUrl: string | undefined;
  /** Where the manifest flow stores the App's secrets; unset: setup explains and stores nothing. */
  secretsDir: string | undefined;
  live?: { minIntervalMs?: number; periodicMs?: number };
}

const SESSION = { session: true } as const;
const READ = { session: true, scope: 'read' } as const;
const WRITE = { session: true, scope: 'write' } as const;
const PUBLIC = { public: true } as const;
const HTML = 'text/html; charset=utf-8';

const ACTIONS = ['pool-drain', 'pool-resume', 'pool-warm', 'host-drain', 'host-resume', 'runner-remove', 'dead-replay', 'dead-delete'] as const;
type Action = (typeof ACTIONS)[number];

const QUESTIONS: Record<Action, (target: string, value: string) => string> = {
  'pool-drain': (t) => `Drain pool ${t}? No new runners start; waiting ones go now, busy ones finish.`,
  'pool-resume': (t) => `Resume pool ${t}?`,
  'pool-warm': (t, v) => `Set the warm minimum of pool ${t} to ${v}?`,
  'host-drain': (t) => `Drain host ${t}?`,
  'host-resume': (t) => `Resume host ${t}?`,
  'runner-remove': (t, v) => `Remove runner ${t}${v === 'force' ? ' and fail its job' : ''}?`,
  'dead-replay': (t) => `Replay dead letter ${t}?`,
  'dead-delete': (t) => `Delete dead letter ${t} for good?`,
};

/** Only a path of the console: `next` never sends the browser elsewhere. */
export const safeNext = (next: unknown) => (typeof next === 'string' && /^\/console(?:[/?][^\\\s]*)?$/.test(next) && !next.startsWith('//') ? next : BASE);

export function registerConsole(app: HttpServer, s: ConsoleSettings): LiveHub {
  const page: PageSettings = { grafanaUrl: s.grafanaUrl };
  const viewerOf = (session: Session): Viewer => ({ name: session.token.name, canWrite: session.token.scope === 'write', csrf: session.csrf });
  const modelDeps = { upstreams: s.upstreams, app, readiness: s.readiness };
  const hub = createLiveHub({
    load: (token) => loadNow(modelDeps, token),
    render: (model, session) => renderNow(model, viewerOf(session)),
    alive: (session) => s.sessions.alive(session),
    log: s.log,
    ...s.live,
  });
  const sessionOf = (req: Parameters<Sessions['of']>[0]): Session => {
    const found = s.sessions.of(req);
    // The chassis let the request through on this session, so it exists; a bearer token has none.
    if (!found) throw new UpstreamError('console', 400, 'the console pages need a signed-in browser, not a bearer token: sign in at /console/login');
    return found;
  };
  const csp = `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self' ${new URL(s.githubUrl).origin}; frame-ancestors 'none'; base-uri 'none'`;
  const origin = (req: { protocol: string; host: string }) => (s.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');

  void app.register(async (child) => {
    // The child context of the chassis app: same type provider, its hooks apply here too.
    const scope = child as unknown as HttpServer;
    await scope.register(formBody);
    scope.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', csp).header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin').header('x-frame-options', 'DENY');
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      return payload;
    });
    scope.setErrorHandler((caught, req, reply) => {
      const error = caught as Error;
      const status = error instanceof UpstreamError ? (error.status >= 400 && error.status < 500 ? error.status : 502) : error instanceof SetupError ? 400 : ((error as { statusCode?: number }).statusCode ?? 500);
      if (status >= 500) req.log.warn({ err: error }, 'console request failed');
      const session = s.sessions.of(req);
      return reply
        .code(status)
        .type(HTML)
        .send(layout(page, { title: status >= 500 ? 'Something failed' : 'Not done', ...(session ? { viewer: viewerOf(session) } : {}), error: status >= 500 && !(error instanceof UpstreamError) ? 'internal error' : error.message, body: html`<p><a href="${BASE}">Back to Now</a></p>` }));
    });

    scope.get(`${BASE}/static/console.css`, { config: PUBLIC, schema: { summary: 'The console stylesheet' } }, async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CONSOLE_CSS));
    scope.get(`${BASE}/static/console.js`, { config: PUBLIC, schema: { summary: 'The console script (live updates, confirmations)' } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CONSOLE_JS));

    scope.get(`${BASE}/login`, { config: PUBLIC, schema: { summary: 'Console sign-in form', querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 500 })) }) } }, async (req, reply) =>
      reply.type(HTML).send(loginPage(page, safeNext(req.query.next))),
    );
    scope.post(
      `${BASE}/login`,
      { config: PUBLIC, schema: { summary: 'Exchange an admin token for a console session cookie (HttpOnly, SameSite=Strict)', body: Type.Object({ token: Type.String({ maxLength: 500 }), next: Type.Optional(Type.String({ maxLength: 500 })) }) } },
      async (req, reply) => {
        const result = s.sessions.login(req.body.token);
        if (!result.ok) return reply.code(401).type(HTML).send(loginPage(page, safeNext(req.body.next), `${result.message}.`));
        req.log.info({ token: result.session.token.name, scope: result.session.token.scope }, 'console: signed in');
        return reply.header('set-cookie', result.cookie).redirect(safeNext(req.body.next), 303);
      },
    );
    scope.post(`${BASE}/logout`, { config: READ, schema: { summary: 'End the console session' } }, async (req, reply) => reply.header('set-cookie', s.sessions.logout(req)).redirect(`${BASE}/login`, 303));

    scope.get(
      BASE,
      { config: SESSION, schema: { summary: 'The Now page: pools, hosts, waiting jobs and why, dead letters, services', querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 300 })) }) } },
      async (req, reply) => {
        const session = sessionOf(req);
        const model = await loadNow(modelDeps, session.token.token);
        return reply.type(HTML).send(nowPage(page, model, viewerOf(session), req.query.done));
      },
    );
    scope.get(`${BASE}/events`, { config: SESSION, schema: { summary: 'Server-sent events: the Now page as it changes (event "now", HTML)' } }, async (req, reply) => {
      const session = sessionOf(req);
      reply.hijack();
      hub.attach(reply.raw, session);
    });

    scope.get(`${BASE}/history`, { config: SESSION, schema: { summary: 'Recent jobs with queue time, run time, pool, runner, host and result' } }, async (req, reply) => {
      const session = sessionOf(req);
      const token = session.token.token;
      const problems: string[] = [];
      const [jobs, runners] = await Promise.all([
        s.upstreams.call<{ jobs: Job[] }>('scheduler', '/api/jobs?limit=100', token).catch((e: unknown) => (problems.push((e as Error).message), { jobs: [] })),
        s.upstreams.call<{ runners: Runner[] }>('pool-manager', '/api/runners?limit=500', token).catch((e: unknown) => (problems.push((e as Error).message), { runners: [] })),
      ]);
      const hostOf = new Map(runners.runners.map((r) => [r.name, r.host]));
      return reply.type(HTML).send(historyPage(page, jobs.jobs.map((job) => ({ job, host: (job.runnerName && hostOf.get(job.runnerName)) ?? '' })), viewerOf(session), problems));
    });
    scope.get(`${BASE}/jobs/:jobId`, { config: SESSION, schema: { summary: "One job's timeline with the time of each step and its trace id", params: Type.Object({ jobId: Type.String({ pattern: '^[0-9]{1,20}$' }) }) } }, async (req, reply) => {
      const session = sessionOf(req);
      const token = session.token.token;
      const job = await s.upstreams.call<Job & { transitions: { transition: string; at: string }[] }>('scheduler', `/api/jobs/${req.params.jobId}`, token);
      const [why, runners] = await Promise.all([
        job.status === 'completed' ? Promise.resolve(null) : s.upstreams.call<Why>('scheduler', `/api/jobs/${job.jobId}/why`, token).catch(() => null),
        s.upstreams.call<{ runners: Runner[] }>('pool-manager', `/api/runners?limit=500${job.pool ? `&pool=${encodeURIComponent(job.pool)}` : ''}`, token).catch(() => ({ runners: [] as Runner[] })),
      ]);
      const runner = runners.runners.find((r) => r.jobId === job.jobId || (job.runnerName !== null && r.name === job.runnerName));
      const steps: TimelineStep[] = [
        ...(job.createdAt ? [{ what: 'queued at GitHub', at: job.createdAt }] : []),
        ...job.transitions.map((t) => ({ what: t.transition, at: t.at })),
        ...(runner ? [{ what: `runner ${runner.name} requested`, at: runner.requestedAt }] : []),
        ...(job.startedAt ? [{ what: 'job started', at: job.startedAt }] : []),
        ...(job.completedAt ? [{ what: `completed${job.conclusion ? ` (${job.conclusion})` : ''}`, at: job.completedAt }] : []),
      ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
      return reply.type(HTML).send(jobPage(page, job, steps, jobTraceId(job.jobId), why, runner, viewerOf(session)));
    });

    scope.post(
      `${BASE}/act`,
      {
        config: WRITE,
        schema: {
          summary: "A write through the owning service's admin API: drain/resume a pool or host, a pool's warm minimum, remove a runner, replay or delete a dead letter",
          body: Type.Object({
            action: Type.Union(ACTIONS.map((a) => Type.Literal(a))),
            target: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
            value: Type.Optional(Type.String({ maxLength: 20 })),
            confirm: Type.Optional(Type.String()),
            _csrf: Type.Optional(Type.String()),
          }),
        },
      },
      async (req, reply) => {
        const session = sessionOf(req);
        const { action, target, value = '' } = req.body;
        if (req.body.confirm !== 'yes') return reply.type(HTML).send(confirmPage(page, viewerOf(session), { action, target, value }, QUESTIONS[action as Action](target, value)));
        const token = session.token.token;
        const t = encodeURIComponent(target);
        let done = '';
        switch (action as Action) {
          case 'pool-drain':
            await s.upstreams.call('pool-manager', `/api/pools/${t}/drain`, token, { method: 'POST' });
            done = `Pool ${target} is drained.`;
            break;
          case 'pool-resume':
            await s.upstreams.call('pool-manager', `/api/pools/${t}/drain`, token, { method: 'DELETE' });
            done = `Pool ${target} serves again.`;
            break;
          case 'pool-warm': {
            const minIdle = Number(value);
            if (!/^[0-9]{1,4}$/.test(value)) throw new UpstreamError('console', 400, 'the warm minimum must be a whole number');
            const pool = await s.upstreams.call<{ source: string; spec: Record<string, unknown> }>('pool-manager', `/api/pools/${t}`, token);
            if (pool.source !== 'api') throw new UpstreamError('pool-manager', 409, `pool ${target} is defined in POOLS_FILE: change its minIdle there and reload`);
            await s.upstreams.call('pool-manager', `/api/pools/${t}`, token, { method: 'PUT', body: { ...pool.spec, minIdle } });
            done = `Pool ${target} keeps ${minIdle} warm.`;
            break;
          }
          case 'host-drain':
            await s.upstreams.call('pool-manager', `/api/hosts/${t}/drain`, token, { method: 'POST' });
            done = `Host ${target} is drained.`;
            break;
          case 'host-resume':
            await s.upstreams.call('pool-manager', `/api/hosts/${t}/drain`, token, { method: 'DELETE' });
            done = `Host ${target} takes runners again.`;
            break;
          case 'runner-remove':
            await s.upstreams.call('pool-manager', `/api/runners/${t}${value === 'force' ? '?force=true' : ''}`, token, { method: 'DELETE' });
            done = `Runner ${target} is being removed.`;
            break;
          case 'dead-replay':
          case 'dead-delete': {
            const answer = await app.inject({ method: action === 'dead-replay' ? 'POST' : 'DELETE', url: `/api/dead-letters/${t}${action === 'dead-replay' ? '/replay' : ''}`, headers: { authorization: `Bearer ${token}` } });
            if (answer.statusCode !== 200) throw new UpstreamError('metrics', answer.statusCode, answer.json<{ message?: string }>().message ?? `HTTP ${answer.statusCode}`);
            done = action === 'dead-replay' ? `Dead letter ${target} was replayed.` : `Dead letter ${target} was deleted.`;
            break;
          }
        }
        req.log.info({ token: session.token.name, action, target, value }, 'console: act');
        hub.changed();
        return reply.redirect(`${BASE}?done=${encodeURIComponent(done)}`, 303);
      },
    );

    // The GitHub App manifest flow. Write scope throughout: it ends with the App's key on disk.
    const setupBody = (viewer: Viewer, req: { protocol: string; host: string }, error?: string) =>
      layout(page, {
        title: 'Set up the GitHub App',
        active: 'setup',
        viewer,
        error,
        body: html`<p>Creates RunnerHub's GitHub App from a manifest with exactly the permissions and events of <code>docs/github-app.md</code>, then stores its id, private key and webhook secret ${s.secretsDir ? html`in <code>${s.secretsDir}</code> (mode 0600)` : html`— <strong>not possible here: CONSOLE_SECRETS_DIR is not set</strong>`}.</p>
<form method="post" action="${BASE}/setup" class="setup"><input type="hidden" name="_csrf" value="${viewer.csrf}">
<label for="org">Organization (empty: your own account)</label><input id="org" name="org" autocomplete="off" pattern="[A-Za-z0-9][A-Za-z0-9\\-]{0,38}">
<label for="publicUrl">Public URL of the webhook-gateway</label><input id="publicUrl" name="publicUrl" type="url" placeholder="https://runners.example.org">
<fieldset><legend>How jobs reach RunnerHub</legend><label><input type="radio" name="mode" value="webhook" checked> Webhooks (GitHub posts workflow_job to the gateway)</label><br><label><input type="radio" name="mode" value="scale-set"> Runner scale sets (no inbound port; webhook off)</label></fieldset>
<button type="submit"${s.secretsDir ? html`` : html` disabled`}>Create the App on GitHub</button></form><p class="hint">The console is reached at ${origin(req)}; GitHub sends you back there.</p>`,
      });
    scope.get(`${BASE}/setup`, { config: WRITE, schema: { summary: 'GitHub App setup from a manifest' } }, async (req, reply) => reply.type(HTML).send(setupBody(viewerOf(sessionOf(req)), req)));
    scope.post(
      `${BASE}/setup`,
      { config: WRITE, schema: { summary: 'Start the manifest flow: a page that posts the manifest to GitHub', body: Type.Object({ org: Type.String({ maxLength: 39 }), publicUrl: Type.String({ maxLength: 500 }), mode: Type.Union([Type.Literal('webhook'), Type.Literal('scale-set')]), _csrf: Type.Optional(Type.String()) }) } },
      async (req, reply) => {
        const session = sessionOf(req);
        if (!s.secretsDir) return reply.code(409).type(HTML).send(setupBody(viewerOf(session), req, 'CONSOLE_SECRETS_DIR is not set: the console has nowhere to store the App.'));
        let built: { action: string; manifest: string };
        try {
          built = buildManifest({ org: req.body.org.trim(), publicUrl: req.body.publicUrl.trim(), mode: req.body.mode, consoleOrigin: origin(req) });
        } catch (error) {
          if (error instanceof SetupError) return reply.code(400).type(HTML).send(setupBody(viewerOf(session), req, error.message));
          throw error;
        }
        const state = newState();
        session.values.set('manifest-state', state);
        const target = `${s.githubUrl.replace(/\/+$/, '')}${built.action}?state=${state}`;
        return reply.type(HTML).send(
          layout(page, {
            title: 'Create the App on GitHub',
            active: 'setup',
            viewer: viewerOf(session),
            body: html`<form method="post" action="${target}" data-autosubmit><input type="hidden" name="manifest" value="${built.manifest}"><p>GitHub shows the App to create; confirm it there and you come back here.</p><button type="submit">Continue to GitHub</button></form><details><summary>The manifest</summary><pre>${JSON.stringify(JSON.parse(built.manifest), null, 2)}</pre></details>`,
          }),
        );
      },
    );
    scope.get(
      `${BASE}/setup/callback`,
      { config: WRITE, schema: { summary: 'GitHub sends the browser back here with a code: exchange it, store the App, list its installations', querystring: Type.Object({ code: Type.String({ maxLength: 100 }), state: Type.String({ maxLength: 100 }) }) } },
      async (req, reply) => {
        const session = sessionOf(req);
        const expected = session.values.get('manifest-state');
        session.values.delete('manifest-state');
        // The state binds the code to this session's own start of the flow: a link from elsewhere stores nothing.
        if (!expected || expected !== req.query.state) return reply.code(400).type(HTML).send(setupBody(viewerOf(session), req, 'This link did not come from a setup started here (state mismatch): start again.'));
        if (!s.secretsDir) return reply.code(409).type(HTML).send(setupBody(viewerOf(session), req, 'CONSOLE_SECRETS_DIR is not set.'));
        const conversion = await convert(s.githubApiUrl, req.query.code);
        const files = await storeSecrets(s.secretsDir, conversion);
        req.log.info({ token: session.token.name, appId: conversion.id, files }, 'console: GitHub App created from the manifest and stored');
        const installations = await installationsOf(s.githubApiUrl, conversion, s.redis).catch((error: unknown) => (error as Error).message);
        const installUrl = conversion.htmlUrl ? `${conversion.htmlUrl.replace(/\/+$/, '')}/installations/new` : '';
        return reply.type(HTML).send(
          layout(page, {
            title: 'GitHub App created',
            active: 'setup',
            viewer: viewerOf(session),
            flash: `App ${conversion.id}${conversion.slug ? ` (${conversion.slug})` : ''} is stored.`,
            body: html`<p>Written with mode 0600:</p><ul class="files">${files.map((f) => html`<li><code>${f}</code></li>`)}</ul>
<dl class="facts"><dt>Permissions</dt><dd class="permissions">${Object.entries(conversion.permissions).sort().map(([k, v]) => `${k}: ${v}`).join(', ')}</dd><dt>Events</dt><dd class="events">${conversion.events.join(', ') || 'none'}</dd><dt>Webhook secret</dt><dd>${conversion.webhookSecret ? 'stored' : 'none (webhook off)'}</dd></dl>
<p>Set <code>GITHUB_APP_ID=${conversion.id}</code> (or keep the file) and restart the services to use it.</p>
${installUrl ? html`<p><a href="${installUrl}" rel="noopener">Install the App</a> on the account or organization whose jobs RunnerHub should run.</p>` : html``}
<h2>Installations</h2>${
              typeof installations === 'string'
                ? html`<p class="error">${installations}</p>`
                : installations.length === 0
                  ? html`<p class="empty">None yet: install the App; the Now page shows its jobs once the services use it.</p>`
                  : html`<ul class="installations">${installations.map((i) => html`<li>${(i.account as { login?: string } | null)?.login ?? '?'} (installation ${i.id}, ${i.repository_selection} repositories)</li>`)}</ul>`
            }`,
          }),
        );
      },
    );
  });
  return hub;
}

