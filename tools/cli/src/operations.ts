import type { Clients } from './client.js';
import { unreachable } from './client.js';
import { SERVICE_NAMES, type Service } from './config.js';
import { CliError, EXIT } from './errors.js';

/**
 * What the CLI and the MCP tools do, as data: each operation asks the services through the typed
 * clients and returns what a person (table) or a script or an assistant (JSON) reads.
 */


export type JobView = NonNullable<Awaited<ReturnType<typeof listJobs>>>[number];
export type PoolView = NonNullable<Awaited<ReturnType<typeof listPools>>>[number];
export type RunnerView = NonNullable<Awaited<ReturnType<typeof listRunners>>>[number];
export type HostView = NonNullable<Awaited<ReturnType<typeof listHosts>>>[number];

export interface ServiceHealth {
  service: Service;
  url: string;
  ready: boolean;
  version: string | null;
  /** Why not ready: the dependency that is down, or what did not answer. */
  problem: string | null;
}

export async function serviceHealth(c: Clients, service: Service): Promise<ServiceHealth> {
  const url = c.settings.urls[service];
  try {
    const [ready, health] = await Promise.all([
      fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) }),
      fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) }),
    ]);
    const report = (await ready.json().catch(() => ({}))) as { phase?: string; checks?: Record<string, { ok?: boolean; error?: string }> };
    const version = ((await health.json().catch(() => ({}))) as { version?: string }).version ?? null;
    let problem: string | null = null;
    if (!ready.ok) {
      const failing = Object.entries(report.checks ?? {}).filter(([, v]) => v.ok === false).map(([name, v]) => `${name}${v.error ? `: ${v.error}` : ''}`);
      problem = failing.length ? failing.join('; ') : `not ready (${report.phase ?? `readyz ${ready.status}`})`;
    }
    return { service, url, ready: ready.ok, version, problem };
  } catch (error) {
    return { service, url, ready: false, version: null, problem: unreachable(c.settings, service, error).message };
  }
}

export async function listJobs(c: Clients, f: { waiting?: boolean; repo?: string; pool?: string; limit?: number }) {
  const { jobs } = await c.must(
    'scheduler',
    c.scheduler.GET('/api/jobs', { params: { query: { limit: f.limit ?? 50, ...(f.waiting ? { status: 'queued' } : {}), ...(f.repo ? { repo: f.repo } : {}), ...(f.pool ? { pool: f.pool } : {}) } } }),
  );
  // Waiting jobs in the order they wait: the oldest first.
  return f.waiting ? [...jobs].sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '')) : jobs;
}

export async function why(c: Clients, jobId: string) {
  if (!/^[0-9]{1,20}$/.test(jobId)) throw new CliError(EXIT.usage, `job ${jobId}: a job id is GitHub's number of the job (runnerhub jobs --waiting lists them)`);
  const [job, answer] = await Promise.all([c.must('scheduler', c.scheduler.GET('/api/jobs/{jobId}', { params: { path: { jobId } } })), c.must('scheduler', c.scheduler.GET('/api/jobs/{jobId}/why', { params: { path: { jobId } } }))]);
  return { job: { jobId: job.jobId, repo: job.repo, jobName: job.jobName, labels: job.labels, status: job.status, pool: job.pool, createdAt: job.createdAt }, ...answer };
}

export async function waitingWithWhy(c: Clients, f: { repo?: string; limit?: number }) {
  const jobs = await listJobs(c, { waiting: true, limit: f.limit ?? 20, ...(f.repo ? { repo: f.repo } : {}) });
  return Promise.all(
    jobs.map(async (j) => {
      const answer = await c.must('scheduler', c.scheduler.GET('/api/jobs/{jobId}/why', { params: { path: { jobId: j.jobId } } })).catch((e: unknown) => ({ reason: 'unknown', detail: (e as Error).message }));
      return { jobId: j.jobId, repo: j.repo, jobName: j.jobName, labels: j.labels, pool: j.pool, createdAt: j.createdAt, why: answer.reason, detail: answer.detail };
    }),
  );
}

export async function listPools(c: Clients) {
  return (await c.must('pool-manager', c.poolManager.GET('/api/pools'))).pools;
}

export async function pool(c: Clients, name: string) {
  return c.must('pool-manager', c.poolManager.GET('/api/pools/{name}', { params: { path: { name } } }));
}

export async function setPoolDrained(c: Clients, name: string, drained: boolean) {
  const params = { params: { path: { name } } };
  return c.must('pool-manager', drained ? c.poolManager.POST('/api/pools/{name}/drain', params) : c.poolManager.DELETE('/api/pools/{name}/drain', params));
}

export async function setPoolWarm(c: Clients, name: string, min: number | null, seconds?: number) {
  const path = { name };
  if (min === null) return c.must('pool-manager', c.poolManager.DELETE('/api/pools/{name}/warm', { params: { path } }));
  return c.must('pool-manager', c.poolManager.PUT('/api/pools/{name}/warm', { params: { path }, body: { min, ...(seconds ? { seconds } : {}) } }));
}

/** Runners of a pool that wait for a job: asked for, registered, booting or idle. */
export const waitingRunners = (p: { runners: Record<string, number> }): number => ['requested', 'registered', 'starting', 'idle'].reduce((n, s) => n + (p.runners[s] ?? 0), 0);
/** Runners of a pool that are alive at all. */
export const liveRunners = (p: { runners: Record<string, number> }): number => waitingRunners(p) + (p.runners['busy'] ?? 0);

export async function listRunners(c: Clients, f: { pool?: string; all?: boolean; limit?: number }) {
  return (await c.must('pool-manager', c.poolManager.GET('/api/runners', { params: { query: { live: !f.all, limit: f.limit ?? 100, ...(f.pool ? { pool: f.pool } : {}) } } }))).runners;
}

/** Removes a runner given by name (rh-pool-xxxxxxxx) or id. */
export async function removeRunner(c: Clients, nameOrId: string, force = false) {
  const id = /^rh-.+-([0-9a-f]{8})$/.exec(nameOrId)?.[1] ?? nameOrId;
  if (!/^[0-9a-f]{8}$/.test(id)) throw new CliError(EXIT.usage, `runner ${nameOrId}: give its name (rh-<pool>-<id>) or its id (8 hex digits), as runnerhub runners lists them`);
  return c.must('pool-manager', c.poolManager.DELETE('/api/runners/{id}', { params: { path: { id }, query: { force } } }));
}

export async function listHosts(c: Clients) {
  return (await c.must('pool-manager', c.poolManager.GET('/api/hosts'))).hosts;
}

export async function setHostDrained(c: Clients, host: string, drained: boolean) {
  const params = { params: { path: { host } } };
  return c.must('pool-manager', drained ? c.poolManager.POST('/api/hosts/{host}/drain', params) : c.poolManager.DELETE('/api/hosts/{host}/drain', params));
}

export async function listDeadLetters(c: Clients, f: { stream?: string; limit?: number }) {
  return c.must('metrics', c.metrics.GET('/api/dead-letters', { params: { query: { limit: f.limit ?? 50, ...(f.stream ? { stream: f.stream } : {}) } } }));
}

const seqOf = (seq: string): number => {
  if (!/^[0-9]{1,15}$/.test(seq)) throw new CliError(EXIT.usage, `dead letter ${seq}: give its number (runnerhub dead-letters list shows them)`);
  return Number(seq);
};

export async function deadLetter(c: Clients, seq: string) {
  return c.must('metrics', c.metrics.GET('/api/dead-letters/{seq}', { params: { path: { seq: seqOf(seq) } } }));
}
export async function replayDeadLetter(c: Clients, seq: string) {
  return c.must('metrics', c.metrics.POST('/api/dead-letters/{seq}/replay', { params: { path: { seq: seqOf(seq) } } }));
}
export async function deleteDeadLetter(c: Clients, seq: string) {
  return c.must('metrics', c.metrics.DELETE('/api/dead-letters/{seq}', { params: { path: { seq: seqOf(seq) } } }));
}

export interface FiringAlert {
  name: string;
  severity: string | null;
  summary: string | null;
  since: string | null;
}

/** Alerts firing at Alertmanager (RUNNERHUB_ALERTMANAGER_URL); null when none is configured. */
export async function firingAlerts(c: Clients): Promise<FiringAlert[] | { error: string } | null> {
  const url = c.settings.alertmanagerUrl;
  if (!url) return null;
  try {
    const response = await fetch(`${url.replace(/\/+$/, '')}/api/v2/alerts?active=true&silenced=false&inhibited=false`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return { error: `Alertmanager at ${url} answered ${response.status}` };
    const alerts = (await response.json()) as { labels: Record<string, string>; annotations: Record<string, string>; startsAt?: string }[];
    return alerts.map((a) => ({ name: a.labels['alertname'] ?? '?', severity: a.labels['severity'] ?? null, summary: a.annotations['summary'] ?? null, since: a.startsAt ?? null }));
  } catch (error) {
    return { error: `cannot reach Alertmanager at ${url}: ${(error as Error).message}` };
  }
}

/** One look at everything: what `runnerhub status` shows and the `status` tool answers. */
export async function status(c: Clients) {
  const services = await Promise.all(SERVICE_NAMES.map((s) => serviceHealth(c, s)));
  const up = (s: Service) => services.find((h) => h.service === s)?.ready === true;
  const soft = async <T>(service: Service, work: () => Promise<T>): Promise<T | { error: string }> => {
    if (!up(service)) return { error: `the ${service} is not ready` };
    try {
      return await work();
    } catch (error) {
      return { error: (error as Error).message };
    }
  };
  const [hosts, pools, waiting, deadLetters, alerts] = await Promise.all([
    soft('pool-manager', () => listHosts(c)),
    soft('pool-manager', () => listPools(c)),
    soft('scheduler', async () => {
      const jobs = await listJobs(c, { waiting: true, limit: 500 });
      const oldest = jobs[0];
      return {
        count: jobs.length,
        byPool: jobs.reduce<Record<string, number>>((acc, j) => ({ ...acc, [j.pool ?? '(none)']: (acc[j.pool ?? '(none)'] ?? 0) + 1 }), {}),
        oldest: oldest ? await why(c, oldest.jobId) : null,
      };
    }),
    soft('metrics', async () => (await listDeadLetters(c, { limit: 1 })).total),
    firingAlerts(c),
  ]);
  const healthy = services.every((s) => s.ready);
  return { healthy, services, hosts, pools, waiting, deadLetters, alerts };
}

export type Status = Awaited<ReturnType<typeof status>>;
export const isError = (v: unknown): v is { error: string } => typeof v === 'object' && v !== null && !Array.isArray(v) && 'error' in v && Object.keys(v).length === 1;

/** Waits for `done` (checked each second), reporting progress, until `timeoutMs`. */
export async function waitUntil<T>(check: () => Promise<T>, done: (v: T) => boolean, progress: (v: T) => void, timeoutMs: number): Promise<{ value: T; done: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const value = await check();
    const line = JSON.stringify(value);
    if (line !== last) progress(value);
    last = line;
    if (done(value)) return { value, done: true };
    if (Date.now() >= deadline) return { value, done: false };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

