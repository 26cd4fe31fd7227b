import {
  jobConclusionFromGitHub,
  jobConclusionWord,
  jobStatusWord,
  PriorityClass,
  UnmatchedReason,
  timestampDate,
  timestampFromDate,
  type JobRef,
  type JobUnmatched,
  type Timestamp,
  type WorkflowJobEvent,
  RepositoryVisibility,
} from '@runnerhub/contracts';
import { withTransaction } from '@runnerhub/platform';
import type pg from 'pg';
import { applyJobEvent, type JobEvent, type JobState, type JobStatus } from './job-state.js';
import { refusalDetail, type JobOrigin, type Match } from './matching.js';
import { enqueueFact } from './outbox.js';
import type { LevelJob } from './levels.js';
import type { PriorityWord } from './rules.js';

/** scheduler.jobs: the job table, written only through `recordWorkflowJob`. */

const date = (t: Timestamp | undefined) => (t ? timestampDate(t) : undefined);
const ts = (d: Date | null | undefined) => (d ? timestampFromDate(d) : undefined);

/** Returns undefined for a status we cannot place (a new one GitHub added): the event is skipped. */
export function toJobEvent(m: WorkflowJobEvent): JobEvent | undefined {
  const status = jobStatusWord(m.status) as JobStatus | undefined;
  if (!status) return undefined;
  const conclusion = jobConclusionWord(m.conclusion);
  return {
    status,
    ...(conclusion ? { conclusion } : {}),
    ...(m.runnerId > 0n ? { runnerId: Number(m.runnerId) } : {}),
    ...(m.runnerName ? { runnerName: m.runnerName } : {}),
    createdAt: date(m.createdAt),
    startedAt: date(m.startedAt),
    completedAt: date(m.completedAt),
  };
}

function jobRef(m: WorkflowJobEvent): JobRef {
  return {
    $typeName: 'runnerhub.v1.JobRef',
    jobId: m.jobId,
    runId: m.runId,
    runAttempt: m.runAttempt,
    installationId: m.delivery?.installationId ?? 0n,
    repository: m.repository,
    organization: m.organization,
    workflowName: m.workflowName,
    jobName: m.jobName,
    labels: m.labels,
    headSha: m.headSha,
    headBranch: m.headBranch,
    htmlUrl: m.htmlUrl,
  };
}

interface Row extends JobState {
  match: Match['kind'];
  pool: string | null;
  priority: PriorityWord;
  publicRepository: boolean;
  forkPullRequest: boolean;
}

/** What is decided once, when a job is first seen. */
export interface Decision {
  match: Match;
  priority: PriorityWord;
  /** Kept with the job: a pool change matches a waiting job again with it. */
  origin: JobOrigin;
}

export const PRIORITY_CLASS: Record<PriorityWord, PriorityClass> = {
  critical: PriorityClass.CRITICAL,
  high: PriorityClass.HIGH,
  normal: PriorityClass.NORMAL,
  low: PriorityClass.LOW,
};

/**
 * Folds one workflow_job event into the job's row and writes the facts of its transitions to the
 * outbox, all in one transaction. The pool decision is made once, when the job is first seen.
 */
export async function recordWorkflowJob(
  pool: pg.Pool,
  m: WorkflowJobEvent,
  decide: () => Decision,
  traceparent: string | undefined,
  foundBy: 'webhook' | 'reconciler' = 'webhook',
): Promise<string[]> {
  const event = toJobEvent(m);
  if (!event) return [];
  return withTransaction(pool, async (client) => {
    // Serialises the events of one job across workers and replicas, also before its row exists
    // (a row lock cannot cover a row that two first events are about to insert).
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [m.jobId.toString()]);
    const { rows } = await client.query<Row>(
      `SELECT status, conclusion, runner_id AS "runnerId", runner_name AS "runnerName", created_at AS "createdAt",
              started_at AS "startedAt", completed_at AS "completedAt", match, pool, priority,
              public_repository AS "publicRepository", fork_pull_request AS "forkPullRequest"
         FROM jobs WHERE job_id = $1 FOR UPDATE`,
      [m.jobId.toString()],
    );
    const existing = rows[0];
    const before: JobState | undefined = existing ? clean(existing) : undefined;
    const { state, transitions } = applyJobEvent(before, event);
    const decision: Decision = existing
      ? { match: matchFromRow(existing), priority: existing.priority, origin: { publicRepository: existing.publicRepository, forkPullRequest: existing.forkPullRequest } }
      : decide();
    const { match, priority } = decision;
    const poolName = match.kind === 'matched' ? match.pool : null;
    await client.query(
      `INSERT INTO jobs (job_id, run_id, run_attempt, installation_id, repo_owner, repo_name, organization, workflow_name, job_name,
                         labels, head_sha, head_branch, html_url, status, conclusion, runner_id, runner_name, match, pool, match_detail,
                         created_at, started_at, completed_at, priority, found_by, public_repository, fork_pull_request)
       VALUES ($1, $2, $3, NULLIF($4::bigint, 0), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
       ON CONFLICT (job_id) DO UPDATE SET status = $14, conclusion = $15, runner_id = $16, runner_name = $17,
         created_at = $21, started_at = $22, completed_at = $23, updated_at = now()`,
      [
        m.jobId.toString(), m.runId.toString(), m.runAttempt, (m.delivery?.installationId ?? 0n).toString(),
        m.repository?.owner ?? '', m.repository?.name ?? '', m.organization, m.workflowName, m.jobName, m.labels,
        m.headSha, m.headBranch, m.htmlUrl, state.status, state.conclusion ?? null, state.runnerId ?? null, state.runnerName ?? null,
        match.kind, poolName, match.kind === 'matched' ? null : JSON.stringify(match),
        state.createdAt ?? null, state.startedAt ?? null, state.completedAt ?? null, priority, foundBy,
        decision.origin.publicRepository, decision.origin.forkPullRequest,
      ],
    );
    const ref = jobRef(m);
    const id = m.jobId.toString();
    const facts: string[] = [];
    if (!existing && foundBy === 'reconciler') await client.query("INSERT INTO job_transitions (job_id, transition) VALUES ($1, 'found_by_reconciler') ON CONFLICT DO NOTHING", [id]);
    for (const t of transitions) {
      await client.query('INSERT INTO job_transitions (job_id, transition) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, t]);
      if (t === 'queued' && match.kind === 'matched') {
        facts.push('job.queued');
        await enqueueFact(client, 'job.queued', { $typeName: 'runnerhub.v1.JobQueued', job: ref, pool: match.pool, priority: PRIORITY_CLASS[priority], queuedAt: ts(state.createdAt), matchedAt: ts(new Date()) }, `job:${id}:queued`, traceparent);
      } else if (t === 'queued' && match.kind === 'unmatched') {
        facts.push('job.unmatched');
        const detail = match.closest.length === 0 ? 'no pool is defined' : `no pool has every label of runs-on: ${m.labels.join(', ')}`;
        await enqueueFact(client, 'job.unmatched', unmatchedFact(ref, match.closest, detail, ts(state.createdAt)), `job:${id}:unmatched`, traceparent);
      } else if (t === 'queued' && match.kind === 'refused') {
        facts.push('job.unmatched');
        await enqueueFact(client, 'job.unmatched', refusedFact(ref, match, ts(state.createdAt)), `job:${id}:unmatched`, traceparent);
      } else if (t === 'started') {
        facts.push('job.started');
        await enqueueFact(client, 'job.started', { $typeName: 'runnerhub.v1.JobStarted', job: ref, pool: poolName ?? '', runnerId: BigInt(state.runnerId ?? 0), runnerName: state.runnerName ?? '', runnerGroupId: m.runnerGroupId, runnerGroupName: m.runnerGroupName, queuedAt: ts(state.createdAt), startedAt: ts(state.startedAt) }, `job:${id}:started`, traceparent);
      } else if (t === 'completed') {
        facts.push('job.completed');
        await enqueueFact(client, 'job.completed', { $typeName: 'runnerhub.v1.JobCompleted', job: ref, pool: poolName ?? '', conclusion: jobConclusionFromGitHub(state.conclusion ?? ''), runnerId: BigInt(state.runnerId ?? 0), runnerName: state.runnerName ?? '', queuedAt: ts(state.createdAt), startedAt: ts(state.startedAt), completedAt: ts(state.completedAt) }, `job:${id}:completed`, traceparent);
      }
    }
    return facts;
  });
}

/** The job's reference as facts carry it, read back from its row. */
export async function loadJobRef(client: pg.PoolClient | pg.Pool, jobId: string): Promise<JobRef | undefined> {
  const { rows } = await client.query<{ runId: string; runAttempt: number; installationId: string | null; owner: string; name: string; organization: string; workflowName: string; jobName: string; labels: string[]; headSha: string; headBranch: string; htmlUrl: string }>(
    `SELECT run_id::text AS "runId", run_attempt AS "runAttempt", installation_id::text AS "installationId", repo_owner AS owner, repo_name AS name, organization,
            workflow_name AS "workflowName", job_name AS "jobName", labels, head_sha AS "headSha", head_branch AS "headBranch", html_url AS "htmlUrl"
       FROM jobs WHERE job_id = $1`,
    [jobId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    $typeName: 'runnerhub.v1.JobRef',
    jobId: BigInt(jobId),
    runId: BigInt(r.runId),
    runAttempt: r.runAttempt,
    installationId: BigInt(r.installationId ?? 0),
    repository: { $typeName: 'runnerhub.v1.Repository', id: 0n, owner: r.owner, name: r.name, fullName: `${r.owner}/${r.name}`, visibility: RepositoryVisibility.UNSPECIFIED },
    organization: r.organization,
    workflowName: r.workflowName,
    jobName: r.jobName,
    labels: r.labels,
    headSha: r.headSha,
    headBranch: r.headBranch,
    htmlUrl: r.htmlUrl,
  };
}

/** job.unmatched: no pool can serve the job; the closest pools and the labels each lacks. */
export function unmatchedFact(job: JobRef | undefined, closest: Array<{ pool: string; missing: string[] }>, detail: string, queuedAt: Timestamp | undefined): JobUnmatched {
  return {
    $typeName: 'runnerhub.v1.JobUnmatched',
    job,
    reason: UnmatchedReason.NO_POOL_MATCHES,
    detail,
    missingLabels: closest[0]?.missing ?? [],
    closestPools: closest.map((c) => ({ $typeName: 'runnerhub.v1.ClosestPool' as const, pool: c.pool, missingLabels: c.missing })),
    queuedAt,
    decidedAt: timestampFromDate(new Date()),
  };
}

function clean(r: Row): JobState {
  return {
    status: r.status,
    ...(r.conclusion ? { conclusion: r.conclusion } : {}),
    ...(r.runnerId ? { runnerId: Number(r.runnerId) } : {}),
    ...(r.runnerName ? { runnerName: r.runnerName } : {}),
    ...(r.createdAt ? { createdAt: r.createdAt } : {}),
    ...(r.startedAt ? { startedAt: r.startedAt } : {}),
    ...(r.completedAt ? { completedAt: r.completedAt } : {}),
  };
}

/**
 * job.unmatched for a job no pool lets run: which pools have its labels, and what opts them in.
 * The detail is the check run's and `why`'s answer, so it names the setting.
 */
export function refusedFact(job: JobRef | undefined, match: Extract<Match, { kind: 'refused' }>, queuedAt: Timestamp | undefined): JobUnmatched {
  return {
    $typeName: 'runnerhub.v1.JobUnmatched',
    job,
    reason: match.reason === 'fork_pull_request' ? UnmatchedReason.FORK_PULL_REQUEST : UnmatchedReason.PUBLIC_REPOSITORY,
    detail: refusalDetail(match),
    missingLabels: [],
    closestPools: match.pools.map((pool) => ({ $typeName: 'runnerhub.v1.ClosestPool' as const, pool, missingLabels: [] })),
    queuedAt,
    decidedAt: timestampFromDate(new Date()),
  };
}

function matchFromRow(r: Row): Match {
  if (r.match === 'matched' && r.pool) return { kind: 'matched', pool: r.pool };
  if (r.match === 'refused') return { kind: 'refused', reason: r.forkPullRequest ? 'fork_pull_request' : 'public_repository', pools: [] };
  if (r.match === 'not_ours') return { kind: 'not_ours', reason: '' };
  return { kind: 'unmatched', closest: [] };
}

export interface JobRow {
  jobId: string;
  repo: string;
  workflowName: string;
  jobName: string;
  labels: string[];
  status: string;
  conclusion: string | null;
  match: string;
  pool: string | null;
  matchDetail: string | null;
  runnerName: string | null;
  priority: PriorityWord;
  foundBy: 'webhook' | 'reconciler';
  publicRepository: boolean;
  forkPullRequest: boolean;
  installationId: string | null;
  organization: string;
  createdAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
}

export const COLUMNS = `job_id::text AS "jobId", repo_owner || '/' || repo_name AS repo, workflow_name AS "workflowName", job_name AS "jobName",
  labels, status, conclusion, match, pool, match_detail AS "matchDetail", runner_name AS "runnerName", priority, found_by AS "foundBy",
  public_repository AS "publicRepository", fork_pull_request AS "forkPullRequest", installation_id::text AS "installationId", organization, created_at AS "createdAt", started_at AS "startedAt", completed_at AS "completedAt"`;

/** Matched jobs that are waiting for a runner or running: the input of the demand levels. */
export async function activeMatchedJobs(db: pg.Pool | pg.PoolClient): Promise<LevelJob[]> {
  const { rows } = await db.query<{ jobId: string; pool: string; repository: string; organization: string; priority: PriorityWord; status: string; createdAt: Date | null }>(
    `SELECT job_id::text AS "jobId", pool, repo_owner || '/' || repo_name AS repository, COALESCE(NULLIF(organization, ''), repo_owner) AS organization,
            priority, status, COALESCE(created_at, first_seen_at) AS "createdAt"
       FROM jobs WHERE match = 'matched' AND status <> 'completed'`,
  );
  return rows.map((r) => ({ jobId: r.jobId, pool: r.pool, repository: r.repository, organization: r.organization, priority: r.priority, running: r.status === 'in_progress', createdAt: r.createdAt?.getTime() ?? 0 }));
}

export function jobsQueries(pool: pg.Pool) {
  return {
    async list(f: { status?: string; pool?: string; repo?: string; match?: string; priority?: string; limit: number }): Promise<JobRow[]> {
      const { rows } = await pool.query<JobRow>(
        `SELECT ${COLUMNS} FROM jobs
          WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR pool = $2) AND ($3::text IS NULL OR lower(repo_owner || '/' || repo_name) = lower($3))
            AND ($4::text IS NULL OR match = $4) AND ($5::text IS NULL OR priority = $5)
          ORDER BY first_seen_at DESC LIMIT $6`,
        [f.status ?? null, f.pool ?? null, f.repo ?? null, f.match ?? null, f.priority ?? null, f.limit],
      );
      return rows;
    },
    async get(jobId: string): Promise<(JobRow & { transitions: Array<{ transition: string; at: Date }> }) | undefined> {
      const { rows } = await pool.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE job_id = $1`, [jobId]);
      if (!rows[0]) return undefined;
      const t = await pool.query<{ transition: string; at: Date }>('SELECT transition, at FROM job_transitions WHERE job_id = $1 ORDER BY at', [jobId]);
      return { ...rows[0], transitions: t.rows };
    },
  };
}
