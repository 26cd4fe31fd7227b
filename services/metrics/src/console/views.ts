import { html, duration, when, Html, type Renderable } from './html.js';
import type { Job, NowModel, Pool, Runner, Why } from './model.js';

/** The pages of the console: server-rendered HTML; console.js adds live updates and confirmations. */

export const BASE = '/console';

export interface Viewer {
  name: string;
  canWrite: boolean;
  csrf: string;
}

export interface PageSettings {
  grafanaUrl: string | undefined;
}

const NAV = [
  ['now', 'Now', BASE],
  ['history', 'History', `${BASE}/history`],
  ['setup', 'GitHub App', `${BASE}/setup`],
] as const;

export function layout(p: PageSettings, o: { title: string; active?: string; viewer?: Viewer; body: Html; flash?: string | undefined; error?: string | undefined }): string {
  const nav = o.viewer
    ? html`<nav aria-label="Console"><ul>${NAV.map(([id, label, href]) => html`<li><a href="${href}"${o.active === id ? html` aria-current="page"` : html``}>${label}</a></li>`)}${
        p.grafanaUrl ? html`<li><a href="${p.grafanaUrl}" rel="noopener">Grafana ↗</a></li>` : html``
      }</ul><form method="post" action="${BASE}/logout" class="logout"><input type="hidden" name="_csrf" value="${o.viewer.csrf}"><span>${o.viewer.name} (${o.viewer.canWrite ? 'write' : 'read'})</span> <button type="submit">Sign out</button></form></nav>`
    : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark">
<title>${o.title} · RunnerHub</title><link rel="stylesheet" href="${BASE}/static/console.css"><script src="${BASE}/static/console.js" defer></script></head>
<body><header><a class="brand" href="${BASE}">RunnerHub</a>${nav}</header>
<main id="main"><h1>${o.title}</h1>${o.flash ? html`<p class="flash" role="status">${o.flash}</p>` : html``}${o.error ? html`<p class="error" role="alert">${o.error}</p>` : html``}${o.body}</main></body></html>`.text;
}

function table(caption: string, head: readonly string[], rows: readonly Html[], empty: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="scroll"><table><caption class="sr-only">${caption}</caption><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** A write as a form: console.js asks to confirm; without script the server asks on a page of its own. */
export function actForm(viewer: Viewer, action: string, target: string, label: string, confirm: string, extra: Renderable = null): Html {
  if (!viewer.canWrite) return html``;
  return html`<form method="post" action="${BASE}/act" class="act" data-confirm="${confirm}"><input type="hidden" name="_csrf" value="${viewer.csrf}"><input type="hidden" name="action" value="${action}"><input type="hidden" name="target" value="${target}">${extra}<button type="submit">${label}</button></form>`;
}

const BOOTING = ['requested', 'registered', 'starting'];
const count = (p: Pool, states: readonly string[]) => states.reduce((n, s) => n + (p.runners[s] ?? 0), 0);

function jobLink(j: Job): Html {
  return html`<a href="${BASE}/jobs/${j.jobId}">${j.jobId}</a>`;
}

function statusBadge(status: string, conclusion?: string | null): Html {
  const word = conclusion ?? status;
  return html`<span class="badge ${word}">${status}${conclusion ? html` · ${conclusion}` : html``}</span>`;
}

function whyText(why: Why | null): string {
  return why ? why.detail : 'the scheduler has no answer yet';
}

/** The live part of the Now page (what the event stream replaces). */
export function renderNow(m: NowModel, viewer: Viewer): string {
  const hostsOf = (pool: string, runners: readonly Runner[]) => [...new Set(runners.filter((r) => r.pool === pool).map((r) => r.host))].sort().join(', ');
  const problems = m.problems.length ? html`<div class="error" role="alert"><p>Not every service answered; what they would show is missing:</p><ul>${m.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : html``;
  const waiting = table(
    'Waiting jobs',
    ['Job', 'Repository', 'Name', 'Labels', 'Waiting since', 'Why'],
    m.waiting.map(({ job, why }) => html`<tr data-job="${job.jobId}"><td>${jobLink(job)}</td><td>${job.repo}</td><td>${job.jobName}</td><td>${job.labels.join(', ')}</td><td>${when(job.createdAt)}</td><td class="why">${whyText(why)}</td></tr>`),
    'No job is waiting.',
  );
  const recent = table(
    'Recent jobs',
    ['Job', 'Repository', 'Name', 'State', 'Pool', 'Runner'],
    m.recent.map((j) => html`<tr data-job="${j.jobId}"><td>${jobLink(j)}</td><td>${j.repo}</td><td>${j.jobName}</td><td class="state">${statusBadge(j.status, j.conclusion)}</td><td>${j.pool ?? ''}</td><td>${j.runnerName ?? ''}</td></tr>`),
    'No jobs yet.',
  );
  const pools = table(
    'Pools',
    ['Pool', 'Labels', 'Warm', 'Busy', 'Booting', 'Failed', 'Hosts', 'Warm minimum', 'State', ''],
    m.pools.map(
      (p) => html`<tr data-pool="${p.name}"><th scope="row">${p.name}</th><td>${p.labels.join(', ')}</td><td>${p.runners['idle'] ?? 0}</td><td>${p.runners['busy'] ?? 0}</td><td>${count(p, BOOTING)}</td><td>${p.runners['failed'] ?? 0}</td><td>${hostsOf(p.name, m.runners)}</td><td>${p.warmNow}${p.warmNow !== p.minIdle ? html` (default ${p.minIdle})` : html``}</td><td class="state">${
        p.drained ? html`<span class="badge drained">drained</span>` : p.lastError ? html`<span class="badge failed" title="${p.lastError}">backing off</span>` : html`<span class="badge ok">serving</span>`
      }${p.lastError ? html`<div class="detail">${p.lastError}</div>` : html``}</td><td class="actions">${
        p.drained ? actForm(viewer, 'pool-resume', p.name, 'Resume', `Resume pool ${p.name}? It starts runners again.`) : actForm(viewer, 'pool-drain', p.name, 'Drain', `Drain pool ${p.name}? No new runners start; waiting ones go now, busy ones finish.`)
      }${
        p.source === 'api'
          ? actForm(viewer, 'pool-warm', p.name, 'Set', `Set the warm minimum of pool ${p.name}?`, html`<label><span class="sr-only">Warm minimum of ${p.name}</span><input type="number" name="value" min="0" max="${p.max}" value="${p.minIdle}" inputmode="numeric"></label>`)
          : html``
      }</td></tr>`,
    ),
    'No pools.',
  );
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const hosts = table(
    'Hosts',
    ['Host', 'Health', 'CPUs reserved', 'Memory reserved', 'Containers', 'Images (capabilities)', ''],
    m.hosts.map(
      (h) => html`<tr data-host="${h.host}"><th scope="row">${h.host}</th><td>${h.healthy ? html`<span class="badge ok">healthy</span>` : html`<span class="badge failed">unhealthy</span>`}${h.drained || h.draining ? html` <span class="badge drained">drained</span>` : html``}</td><td>${h.reservedCpus} / ${h.cpus}</td><td>${gib(h.reservedMemoryBytes)} / ${gib(h.memoryBytes)}</td><td>${h.running} / ${h.maxContainers}</td><td>${h.images.join(', ')}</td><td class="actions">${
        h.drained ? actForm(viewer, 'host-resume', h.host, 'Resume', `Resume host ${h.host}?`) : actForm(viewer, 'host-drain', h.host, 'Drain', `Drain host ${h.host}? No new runners start there; busy ones finish.`)
      }</td></tr>`,
    ),
    'No executor has sent a heartbeat.',
  );
  const runners = table(
    'Runners',
    ['Runner', 'Pool', 'Host', 'State', 'Job', ''],
    m.runners.map(
      (r) => html`<tr data-runner="${r.name}"><th scope="row">${r.name}</th><td>${r.pool}</td><td>${r.host}</td><td>${statusBadge(r.state)}${r.failure ? html`<div class="detail">${r.failure}</div>` : html``}</td><td>${r.jobId ?? ''}</td><td class="actions">${actForm(
        viewer,
        'runner-remove',
        r.id,
        'Remove',
        r.state === 'busy' ? `Remove runner ${r.name}? It is running job ${r.jobId ?? '?'}, which fails.` : `Remove runner ${r.name}?`,
        r.state === 'busy' ? html`<input type="hidden" name="value" value="force">` : null,
      )}</td></tr>`,
    ),
    'No live runners.',
  );
  const dead = table(
    'Dead letters',
    ['#', 'Stream', 'Consumer', 'Subject', 'Reason', 'Failed at', ''],
    m.deadLetters.letters.map(
      (d) => html`<tr data-dead="${d.seq}"><th scope="row">${d.seq}</th><td>${d.stream}</td><td>${d.consumer}</td><td>${d.subject}</td><td>${d.reason}</td><td>${when(d.failedAt)}</td><td class="actions">${actForm(viewer, 'dead-replay', String(d.seq), 'Replay', `Replay dead letter ${d.seq} to ${d.consumer}?`)}${actForm(viewer, 'dead-delete', String(d.seq), 'Delete', `Delete dead letter ${d.seq} for good?`)}</td></tr>`,
    ),
    'No dead letters.',
  );
  const services = table(
    'Services',
    ['Service', 'Ready', 'Version', 'Detail'],
    m.services.map((s) => html`<tr data-service="${s.name}"><th scope="row">${s.name}</th><td>${s.ready === null ? html`<span class="badge failed">no answer</span>` : s.ready ? html`<span class="badge ok">ready</span>` : html`<span class="badge failed">not ready</span>`}</td><td>${s.version ?? ''}</td><td>${s.detail}</td></tr>`),
    '',
  );
  return html`${problems}<p class="updated">As of ${when(m.at)}</p>
<section aria-labelledby="h-waiting"><h2 id="h-waiting">Waiting jobs <span class="count">${m.waiting.length}</span></h2>${waiting}</section>
<section aria-labelledby="h-recent"><h2 id="h-recent">Recent jobs</h2>${recent}</section>
<section aria-labelledby="h-pools"><h2 id="h-pools">Pools</h2>${pools}</section>
<section aria-labelledby="h-hosts"><h2 id="h-hosts">Hosts</h2>${hosts}</section>
<section aria-labelledby="h-runners"><h2 id="h-runners">Runners</h2>${runners}</section>
<section aria-labelledby="h-dead"><h2 id="h-dead">Dead letters <span class="count">${m.deadLetters.total}</span></h2>${dead}</section>
<section aria-labelledby="h-services"><h2 id="h-services">Services</h2>${services}</section>`.text;
}

export function nowPage(p: PageSettings, m: NowModel, viewer: Viewer, flash?: string, error?: string): string {
  return layout(p, {
    title: 'Now',
    active: 'now',
    viewer,
    flash,
    error,
    body: html`<p class="live"><span id="live-status" aria-live="polite">updates when something happens</span>${p.grafanaUrl ? html` · <a href="${p.grafanaUrl}" rel="noopener">time series in Grafana</a>` : html``}</p><div id="now" data-live="${BASE}/events">${new Html(renderNow(m, viewer))}</div>`,
  });
}

export interface HistoryRow {
  job: Job;
  host: string;
}

export function historyPage(p: PageSettings, rows: readonly HistoryRow[], viewer: Viewer, problems: readonly string[]): string {
  return layout(p, {
    title: 'History',
    active: 'history',
    viewer,
    error: problems.length ? problems.join('; ') : undefined,
    body: table(
      'Recent jobs',
      ['Job', 'Repository', 'Name', 'Queued', 'Queue time', 'Run time', 'Pool', 'Runner', 'Host', 'Result'],
      rows.map(
        ({ job: j, host }) =>
          html`<tr data-job="${j.jobId}"><td>${jobLink(j)}</td><td>${j.repo}</td><td>${j.jobName}</td><td>${when(j.createdAt)}</td><td>${duration(j.createdAt, j.startedAt)}</td><td>${duration(j.startedAt, j.completedAt)}</td><td>${j.pool ?? ''}</td><td>${j.runnerName ?? ''}</td><td>${host}</td><td>${statusBadge(j.status, j.conclusion)}</td></tr>`,
      ),
      'No jobs yet.',
    ),
  });
}

export interface TimelineStep {
  what: string;
  at: string;
}

export function jobPage(p: PageSettings, job: Job, steps: readonly TimelineStep[], traceId: string, why: Why | null, runner: Runner | undefined, viewer: Viewer): string {
  const first = steps[0]?.at;
  return layout(p, {
    title: `Job ${job.jobId}`,
    active: 'history',
    viewer,
    body: html`<dl class="facts"><dt>Repository</dt><dd>${job.repo}</dd><dt>Workflow / job</dt><dd>${job.workflowName} / ${job.jobName}</dd><dt>Labels</dt><dd>${job.labels.join(', ')}</dd><dt>State</dt><dd>${statusBadge(job.status, job.conclusion)}</dd><dt>Pool</dt><dd>${job.pool ?? '—'}</dd><dt>Runner</dt><dd>${job.runnerName ?? '—'}${runner ? html` on ${runner.host}` : html``}</dd><dt>Trace id</dt><dd><code>${traceId}</code></dd>${
      why && job.status !== 'completed' ? html`<dt>Why it waits</dt><dd class="why">${why.detail}</dd>` : html``
    }${runner?.failure ? html`<dt>Runner failure</dt><dd>${runner.failure}</dd>` : html``}</dl>
<h2>Timeline</h2>${table('Timeline', ['Step', 'At', 'After start'], steps.map((s) => html`<tr><th scope="row">${s.what}</th><td>${when(s.at)}</td><td>${duration(first, s.at) || '0.0 s'}</td></tr>`), 'No steps recorded.')}
${p.grafanaUrl ? html`<p><a href="${p.grafanaUrl}" rel="noopener">Grafana</a> (search the trace id in your trace backend)</p>` : html``}`,
  });
}

export function loginPage(p: PageSettings, next: string, error?: string): string {
  return layout(p, {
    title: 'Sign in',
    error,
    body: html`<form method="post" action="${BASE}/login" class="login"><input type="hidden" name="next" value="${next}"><label for="token">Admin token</label><input id="token" name="token" type="password" autocomplete="current-password" required minlength="16"><p class="hint">A token from ADMIN_TOKENS: a read token shows, a write token can also act.</p><button type="submit">Sign in</button></form>`,
  });
}

/** The page a write without script lands on: the same form again, to confirm. */
export function confirmPage(p: PageSettings, viewer: Viewer, fields: Record<string, string>, question: string): string {
  return layout(p, {
    title: 'Confirm',
    viewer,
    body: html`<form method="post" action="${BASE}/act"><p>${question}</p>${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<input type="hidden" name="_csrf" value="${viewer.csrf}"><input type="hidden" name="confirm" value="yes"><button type="submit">Confirm</button> <a href="${BASE}">Cancel</a></form>`,
  });
}
