import { createHash } from 'node:crypto';

/**
 * What a check run of ours says, as pure functions of the facts a report gathered (`ReportDetails`).
 * GitHub's limits are enforced here: `output.summary` and `output.text` at most 65,535 characters
 * (cut with a note saying so), no annotations (nothing we report has a file and line, so the limit
 * of 50 per request is never reached), a short title and name.
 */

export type ReportKind = 'unmatched' | 'stuck' | 'runner_failed' | 'job_report';
export const reportKinds: readonly ReportKind[] = ['unmatched', 'stuck', 'runner_failed', 'job_report'];

/** GitHub's limit on output.summary and output.text. */
export const OUTPUT_LIMIT = 65_535;
/** GitHub documents none for the title and name; these keep the checks list readable. */
const TITLE_LIMIT = 255;
const NAME_LIMIT = 100;
/** The container's last lines are shown at most this many, each at most this long. */
const LOG_LINES_SHOWN = 100;
const LOG_LINE_LIMIT = 1_000;

export interface JobInfo {
  jobId: string;
  jobName: string;
  workflowName: string;
  /** owner/name */
  repo: string;
  labels: string[];
  htmlUrl: string;
}

/** The job was taken (or ended) after all: diagnostic reports say so instead of staying red. */
export interface Resolution {
  at: string;
  how: 'started' | 'completed';
  runnerName?: string;
  conclusion?: string;
}

export interface ClosestPool {
  pool: string;
  missing: string[];
}

export type ReportDetails =
  /** `refusal`: pools have the labels but none lets the job run (a public repository, a fork's pull request); `detail` says which setting would. */
  | { kind: 'unmatched'; job: JobInfo; detail: string; closestPools: ClosestPool[]; queuedAt?: string; resolution?: Resolution; refusal?: 'public_repository' | 'fork_pull_request' }
  | {
      kind: 'stuck';
      job: JobInfo;
      pool: string;
      queuedAt?: string;
      detectedAt?: string;
      expectedStartSeconds: number;
      why: { reason: string; detail: string; closestPools: ClosestPool[]; lastError: string; since?: string };
      resolution?: Resolution;
    }
  | {
      kind: 'runner_failed';
      job: JobInfo;
      pool: string;
      /** Distinct runners of the pool that failed while this job waited. */
      failures: number;
      latest: { runnerName: string; host: string; reason: string; message: string; lastLogLines: string[]; exitCode: number; failedAt?: string };
      resolution?: Resolution;
    }
  | {
      kind: 'job_report';
      job: JobInfo;
      pool: string;
      conclusion: string;
      runnerName: string;
      host?: string;
      queuedAt?: string;
      startedAt?: string;
      completedAt?: string;
      cpuSeconds?: number;
      peakMemoryBytes?: number;
    };

export type CheckRunConclusion = 'action_required' | 'failure' | 'neutral';

/** The fields of a check run we write: the same on create and on every update. */
export interface RenderedCheckRun {
  name: string;
  details_url?: string;
  status: 'in_progress' | 'completed';
  conclusion?: CheckRunConclusion;
  output: { title: string; summary: string; text?: string };
}

export function checkRunName(kind: ReportKind, jobName: string): string {
  const job = jobName || 'job';
  switch (kind) {
    case 'unmatched':
      return cut(`RunnerHub: no runner for ${job}`, NAME_LIMIT);
    case 'stuck':
      return cut(`RunnerHub: ${job} waits for a runner`, NAME_LIMIT);
    case 'runner_failed':
      return cut(`RunnerHub: runner failed to start for ${job}`, NAME_LIMIT);
    case 'job_report':
      return cut(`RunnerHub: ${job} report`, NAME_LIMIT);
  }
}

/** The check run's external_id: how we find it again after a crash. */
export function externalId(jobId: string, kind: ReportKind): string {
  return `runnerhub:${jobId}:${kind}`;
}

export function render(d: ReportDetails): RenderedCheckRun {
  const base = { name: checkRunName(d.kind, d.job.jobName), ...(d.job.htmlUrl ? { details_url: d.job.htmlUrl } : {}) };
  switch (d.kind) {
    case 'unmatched':
      return { ...base, ...renderUnmatched(d) };
    case 'stuck':
      return { ...base, ...renderStuck(d) };
    case 'runner_failed':
      return { ...base, ...renderRunnerFailed(d) };
    case 'job_report':
      return { ...base, ...renderJobReport(d) };
  }
}

/** Changes whenever anything GitHub would show changes; equal content is never sent twice. */
export function contentHash(r: RenderedCheckRun): string {
  return createHash('sha256').update(JSON.stringify(r)).digest('hex');
}

type Body = Omit<RenderedCheckRun, 'name' | 'details_url'>;

function renderRefused(d: Extract<ReportDetails, { kind: 'unmatched' }>): Body {
  const what = d.refusal === 'fork_pull_request' ? 'runs for a pull request from a fork' : 'belongs to a public repository';
  const lines = [
    `**${escape(d.job.jobName)}** (${escape(d.job.workflowName)}) ${what}: code anyone can write would run on your own hardware, so RunnerHub starts no runner for it and it stays *Waiting for a runner*.`,
    '',
    `RunnerHub: ${escape(d.detail)}`,
    '',
    '### How to allow it',
    '',
    d.refusal === 'fork_pull_request'
      ? `- on a pool with these labels (${d.closestPools.map((p) => code(p.pool)).join(', ')}), set \`allowPublicRepositories: true\` and \`allowForkPullRequests: true\` in pools.yaml, and keep GitHub's *Require approval for fork pull request workflows* on for outside contributors;`
      : `- on a pool with these labels (${d.closestPools.map((p) => code(p.pool)).join(', ')}), set \`allowPublicRepositories: true\` in pools.yaml;`,
    '- only for a pool whose runners hold nothing you would mind a stranger reading (docs/security.md, "Public repositories and forks").',
    '',
    'A waiting job runs as soon as a pool allows it.',
  ];
  resolutionLines(lines, d.resolution);
  return {
    ...(d.resolution ? { status: 'completed' as const, conclusion: 'neutral' as const } : { status: 'completed' as const, conclusion: 'action_required' as const }),
    output: {
      title: cut(d.refusal === 'fork_pull_request' ? 'Not run: a pull request from a fork, which no pool allows' : 'Not run: a public repository, which no pool allows', TITLE_LIMIT),
      summary: limit(lines.join('\n')),
    },
  };
}

function renderUnmatched(d: Extract<ReportDetails, { kind: 'unmatched' }>): Body {
  if (d.refusal) return renderRefused(d);
  const lines = [
    `**${escape(d.job.jobName)}** (${escape(d.job.workflowName)}) asks for a runner with the labels ${labelList(d.job.labels)}, and no RunnerHub pool has all of them, so GitHub shows *Waiting for a runner to pick up this job* and nothing will ever take it.`,
    '',
  ];
  if (d.detail) lines.push(`RunnerHub: ${escape(d.detail)}`, '');
  if (d.closestPools.length > 0) {
    lines.push('### The pools that come closest', '', '| Pool | Labels it lacks |', '|---|---|');
    for (const p of d.closestPools) lines.push(`| ${code(p.pool)} | ${labelList(p.missing)} |`);
    lines.push('');
  } else {
    lines.push('No pool is defined yet.', '');
  }
  const first = d.closestPools[0];
  lines.push(
    '### How to fix it',
    '',
    first
      ? `- change \`runs-on\` of this job to labels a pool has (for pool ${code(first.pool)}: drop ${labelList(first.missing)}), or`
      : '- change `runs-on` of this job to the labels of a pool, or',
    first ? `- add ${labelList(first.missing)} to pool ${code(first.pool)}, or add a pool with every label above.` : '- add a pool whose labels include every label above.',
    '',
    'Then re-run the job.',
  );
  resolutionLines(lines, d.resolution);
  return {
    ...(d.resolution ? { status: 'completed' as const, conclusion: 'neutral' as const } : { status: 'completed' as const, conclusion: 'action_required' as const }),
    output: {
      title: cut(d.resolution ? `No pool matched ${labelsPlain(d.job.labels)} (the job has ${d.resolution.how} since)` : `No pool has every label of ${labelsPlain(d.job.labels)}`, TITLE_LIMIT),
      summary: limit(lines.join('\n')),
    },
  };
}

function renderStuck(d: Extract<ReportDetails, { kind: 'stuck' }>): Body {
  const waited = d.queuedAt && d.detectedAt ? duration(Date.parse(d.detectedAt) - Date.parse(d.queuedAt)) : undefined;
  const lines = [
    `**${escape(d.job.jobName)}** waits for a runner of pool ${code(d.pool)}${waited ? ` since ${waited}` : ''}; the pool usually starts a job within ${duration(d.expectedStartSeconds * 1000)}.`,
    '',
    '### Why it is still queued',
    '',
    `**${escape(humanReason(d.why.reason))}**: ${escape(d.why.detail) || 'no further detail'}`,
    '',
  ];
  if (d.why.since) lines.push(`Since ${d.why.since}.`, '');
  if (d.why.lastError) lines.push('Last provisioning error:', '', fence(d.why.lastError), '');
  if (d.why.closestPools.length > 0) {
    lines.push('| Pool | Labels it lacks |', '|---|---|');
    for (const p of d.why.closestPools) lines.push(`| ${code(p.pool)} | ${labelList(p.missing)} |`);
    lines.push('');
  }
  lines.push(`Labels: ${labelList(d.job.labels)}. Queued at ${d.queuedAt ?? 'an unknown time'}.`);
  resolutionLines(lines, d.resolution);
  return {
    ...(d.resolution ? { status: 'completed' as const, conclusion: 'neutral' as const } : { status: 'in_progress' as const }),
    output: {
      title: cut(d.resolution ? `Waited for pool ${d.pool}; ${d.resolution.how === 'started' ? 'a runner took it' : 'it ended'}` : `Waiting for pool ${d.pool}: ${humanReason(d.why.reason)}`, TITLE_LIMIT),
      summary: limit(lines.join('\n')),
    },
  };
}

function renderRunnerFailed(d: Extract<ReportDetails, { kind: 'runner_failed' }>): Body {
  const f = d.latest;
  const lines = [
    `A runner of pool ${code(d.pool)}, which this job waits for, failed to start${d.failures > 1 ? ` (${d.failures} runners so far while it waited)` : ''}.`,
    '',
    `- runner: ${code(f.runnerName)}${f.host ? ` on host ${code(f.host)}` : ''}`,
    `- reason: **${escape(humanReason(f.reason))}**${f.exitCode !== 0 ? ` (exit code ${f.exitCode})` : ''}`,
    ...(f.failedAt ? [`- at: ${f.failedAt}`] : []),
    '',
    fence(f.message || 'no message'),
    '',
    'RunnerHub keeps trying with backoff; if the cause is the pool (image, resources, network), fix the pool definition.',
  ];
  resolutionLines(lines, d.resolution);
  const shown = f.lastLogLines.slice(-LOG_LINES_SHOWN).map((l) => cut(l, LOG_LINE_LIMIT));
  const omitted = f.lastLogLines.length - shown.length;
  const text =
    shown.length > 0
      ? limit([`### The container's last ${shown.length} log lines${omitted > 0 ? ` (${omitted} earlier not shown)` : ''}`, '', fence(shown.join('\n'))].join('\n'))
      : undefined;
  return {
    ...(d.resolution ? { status: 'completed' as const, conclusion: 'neutral' as const } : { status: 'completed' as const, conclusion: 'failure' as const }),
    output: {
      title: cut(`${d.resolution ? '(resolved) ' : ''}Runner ${f.runnerName} failed to start: ${humanReason(f.reason)}`, TITLE_LIMIT),
      summary: limit(lines.join('\n')),
      ...(text ? { text } : {}),
    },
  };
}

function renderJobReport(d: Extract<ReportDetails, { kind: 'job_report' }>): Body {
  const ms = (a?: string, b?: string) => (a && b ? Date.parse(b) - Date.parse(a) : undefined);
  const queue = ms(d.queuedAt, d.startedAt);
  const run = ms(d.startedAt, d.completedAt);
  const rows: Array<[string, string]> = [
    ['Conclusion', d.conclusion || 'unknown'],
    ['Queue time', queue !== undefined ? duration(queue) : 'unknown'],
    ['Run time', run !== undefined ? duration(run) : 'unknown'],
    ['Pool', code(d.pool)],
    ['Host', d.host ? code(d.host) : 'unknown'],
    ['Runner', d.runnerName ? code(d.runnerName) : 'none'],
    ['CPU used', d.cpuSeconds !== undefined ? `${d.cpuSeconds.toFixed(1)} CPU seconds` : 'not reported yet'],
    ['Peak memory', d.peakMemoryBytes !== undefined ? bytes(d.peakMemoryBytes) : 'not reported yet'],
  ];
  const lines = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '', `Labels: ${labelList(d.job.labels)}.`];
  return {
    status: 'completed',
    conclusion: 'neutral',
    output: {
      title: cut(`${d.job.jobName || 'Job'} on ${d.pool}: queued ${queue !== undefined ? duration(queue) : '?'}, ran ${run !== undefined ? duration(run) : '?'}`, TITLE_LIMIT),
      summary: limit(lines.join('\n')),
    },
  };
}

function resolutionLines(lines: string[], r: Resolution | undefined): void {
  if (!r) return;
  const what = r.how === 'started' ? `runner ${r.runnerName ? code(r.runnerName) : '(unknown)'} took the job` : `the job ended${r.conclusion ? ` (${escape(r.conclusion)})` : ''}`;
  lines.push('', `**Resolved** at ${r.at}: ${what}.`);
}

// --- formatting helpers ------------------------------------------------------------------------

/** QUEUE_REASON_POOL_AT_MAXIMUM → "pool at maximum". */
export function humanReason(reason: string): string {
  const words = reason.replace(/^(QUEUE_REASON_|RUNNER_FAILURE_REASON_)/, '').toLowerCase().replace(/_/g, ' ').trim();
  return words || 'unknown';
}

/** Cuts `s` to GitHub's output limit, at a line end where possible, and says how much was left out. */
export function limit(s: string, max = OUTPUT_LIMIT): string {
  if (s.length <= max) return s;
  let end = max - 120;
  for (;;) {
    const lineEnd = s.lastIndexOf('\n', end);
    const at = lineEnd > end - 2_000 && lineEnd > 0 ? lineEnd : end;
    const open = openFence(s.slice(0, at));
    // An open code fence would swallow the note: close it.
    const result = `${s.slice(0, at)}${open ? `\n${open}` : ''}\n\n*… ${s.length - at} characters not shown (GitHub allows ${max} here).*`;
    if (result.length <= max) return result;
    end -= result.length - max;
  }
}

/** The backticks of a fenced block left open at the end of `s`, if any. */
function openFence(s: string): string | undefined {
  let open: string | undefined;
  for (const line of s.split('\n')) {
    const ticks = /^(`{3,})/.exec(line)?.[1];
    if (!ticks) continue;
    if (open === undefined) open = ticks;
    else if (ticks.length >= open.length && line.trim() === ticks) open = undefined;
  }
  return open;
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A fenced block that content with backticks cannot break out of. */
export function fence(content: string): string {
  const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((m) => m.length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return `${ticks}text\n${content}\n${ticks}`;
}

/** Inline code that survives backticks in the value. */
export function code(s: string): string {
  if (!s.includes('`')) return `\`${s}\``;
  return `\`\` ${s.replace(/`{2,}/g, '`')} \`\``;
}

function labelList(labels: readonly string[]): string {
  return labels.length > 0 ? labels.map(code).join(', ') : '(none)';
}

function labelsPlain(labels: readonly string[]): string {
  return `[${labels.join(', ')}]`;
}

/** Text outside code: markdown and HTML characters are shown as they are. */
function escape(s: string): string {
  return s.replace(/([\\`*_[\]<>|#])/g, '\\$1');
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
