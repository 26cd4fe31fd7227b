import Table from 'cli-table3';
import { isError, waitingRunners, type HostView, type JobView, type PoolView, type RunnerView, type Status } from './operations.js';

/** Tables for people (`--json` prints the data instead). */

const PLAIN = { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' };

export function table(head: string[], rows: (string | number | null | undefined)[][]): string {
  const t = new Table({ head, chars: PLAIN, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 } });
  for (const row of rows) t.push(row.map((v) => (v === null || v === undefined ? '-' : String(v))));
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}

export const ago = (iso: string | null | undefined, now = Date.now()): string => {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
};

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)}G`;

export const renderJobs = (jobs: JobView[]): string =>
  jobs.length === 0 ? 'no jobs' : table(['JOB', 'REPO', 'NAME', 'STATUS', 'POOL', 'LABELS', 'AGE', 'RUNNER'], jobs.map((j) => [j.jobId, j.repo, j.jobName, j.status, j.pool ?? j.match, j.labels.join(','), ago(j.createdAt), j.runnerName]));

export const renderPools = (pools: PoolView[]): string =>
  pools.length === 0
    ? 'no pools: declare them in POOLS_FILE (docs/pools.md)'
    : table(
        ['POOL', 'STATE', 'WARM', 'WAITING', 'BUSY', 'MAX', 'PENDING', 'LAST ERROR'],
        pools.map((p) => [
          p.name,
          p.drained ? 'drained' : p.backoffUntil ? `backing off till ${p.backoffUntil.slice(11, 19)}` : 'serving',
          p.warm ? `${p.warmNow} (held${p.warm.until ? ` till ${p.warm.until.slice(11, 19)}` : ''})` : p.warmNow,
          waitingRunners(p),
          p.runners['busy'] ?? 0,
          p.max,
          p.pending,
          p.lastError || null,
        ]),
      );

export const renderRunners = (runners: RunnerView[]): string =>
  runners.length === 0 ? 'no runners' : table(['NAME', 'POOL', 'HOST', 'STATE', 'JOB', 'AGE', 'FAILURE'], runners.map((r) => [r.name, r.pool, r.host, r.state, r.jobId, ago(r.requestedAt), r.failure]));

export const renderHosts = (hosts: HostView[]): string =>
  hosts.length === 0
    ? 'no hosts: no container-executor sends heartbeats'
    : table(
        ['HOST', 'STATE', 'CPUS', 'MEMORY', 'CONTAINERS', 'IMAGES'],
        hosts.map((h) => [
          h.host,
          !h.healthy ? 'unhealthy' : h.drained || h.draining ? 'drained' : 'ok',
          `${h.reservedCpus}/${h.cpus}`,
          `${gib(h.reservedMemoryBytes)}/${gib(h.memoryBytes)}`,
          `${h.running}/${h.maxContainers}`,
          h.images.length,
        ]),
      );

export function renderStatus(s: Status): string {
  const out: string[] = [];
  out.push(s.healthy ? 'RunnerHub is healthy' : 'RunnerHub is NOT healthy', '');
  out.push(table(['SERVICE', 'READY', 'VERSION', 'URL', 'PROBLEM'], s.services.map((h) => [h.service, h.ready ? 'yes' : 'NO', h.version, h.url, h.problem])), '');
  out.push('hosts:', isError(s.hosts) ? `  ${s.hosts.error}` : indent(renderHosts(s.hosts)), '');
  out.push('pools:', isError(s.pools) ? `  ${s.pools.error}` : indent(renderPools(s.pools)), '');
  if (isError(s.waiting)) out.push(`waiting jobs: ${s.waiting.error}`);
  else {
    const by = Object.entries(s.waiting.byPool).map(([p, n]) => `${p} ${n}`).join(', ');
    out.push(`waiting jobs: ${s.waiting.count}${by ? ` (${by})` : ''}`);
    const o = s.waiting.oldest;
    if (o) out.push(`  oldest: job ${o.job.jobId} of ${o.job.repo} (${o.job.jobName}), waiting ${ago(o.since ?? o.job.createdAt)}: ${o.detail}`, `  more:   runnerhub why ${o.job.jobId}`);
  }
  out.push(`dead letters: ${isError(s.deadLetters) ? s.deadLetters.error : s.deadLetters}${!isError(s.deadLetters) && s.deadLetters > 0 ? ' (runnerhub dead-letters list)' : ''}`);
  if (s.alerts === null) out.push('alerts: not asked (set RUNNERHUB_ALERTMANAGER_URL)');
  else if (isError(s.alerts)) out.push(`alerts: ${s.alerts.error}`);
  else out.push(`alerts firing: ${s.alerts.length}`, ...s.alerts.map((a) => `  ${a.name}${a.severity ? ` [${a.severity}]` : ''}: ${a.summary ?? ''} (since ${ago(a.since)})`));
  return out.join('\n');
}

const indent = (text: string) => text.split('\n').map((l) => `  ${l}`).join('\n');
