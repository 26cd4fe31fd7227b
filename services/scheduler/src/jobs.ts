import {
  jobConclusionFromGitHub,
  jobConclusionWord,
  jobStatusWord,
  PriorityClass,
  UnmatchedReason,
  timestampDate,
  timestampFromDate,
  type JobRef,
  type Timestamp,
  type WorkflowJobEvent,
} from '@runnerhub/contracts';
import type pg from 'pg';
import { applyJobEvent, type JobEvent, type JobState, type JobStatus } from './job-state.js';
import type { Match } from './matching.js';
import { enqueueFact } from './outbox.js';

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
}

/**
 * Folds one workflow_job event into the job's row and writes the facts of its transitions to the
 * outbox, all in one transaction. The pool decision is made once, when the job is first seen.
 */
export async function recordWorkflowJob(pool: pg.Pool, m: WorkflowJobEvent, decide: () => Match, traceparent: string | undefined): Promise<string[]> {
  const event = toJobEvent(m);
  if (!event) return [];
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Serialises the events of one job across workers and replicas, also before its row exists
    // (a row lock cannot cover a row that two first events are about to insert).
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [m.jobId.toString()]);
    const { rows } = await client.query<Row>(
      `SELECT status, conclusion, runner_id AS "runnerId", runner_name AS "runnerName", created_at AS "createdAt",
              started_at AS "startedAt", completed_at AS "completedAt", match, pool
         FROM jobs WHERE job_id = $1 FOR UPDATE`,
      [m.jobId.toString()],
    );
    const existing = rows[0];
    const before: JobState | undefined = existing ? clean(existing) : undefined;
    const { state, transitions } = applyJobEvent(before, event);
    const match: Match = existing ? matchFromRow(existing) : decide();
    const poolName = match.kind === 'matched' ? match.pool : null;
    await client.query(
      `INSERT INTO jobs (job_id, run_id, run_attempt, installation_id, repo_owner, repo_name, organization, workflow_name, job_name,
                         labels, head_sha, head_branch, html_url, status, conclusion, runner_id, runner_name, match, pool, match_detail,
                         created_at, started_at, completed_at)
       VALUES ($1, $2, $3, NULLIF($4::bigint, 0), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
       ON CONFLICT (job_id) DO UPDATE SET status = $14, conclusion = $15, runner_id = $16, runner_name = $17,
         created_at = $21, started_at = $22, completed_at = $23, updated_at = now()`,
      [
        m.jobId.toString(), m.runId.toString(), m.runAttempt, (m.delivery?.installationId ?? 0n).toString(),
        m.repository?.owner ?? '', m.repository?.name ?? '', m.organization, m.workflowName, m.jobName, m.labels,
        m.headSha, m.headBranch, m.htmlUrl, state.status, state.conclusion ?? null, state.runnerId ?? null, state.runnerName ?? null,
        match.kind, poolName, match.kind === 'matched' ? null : JSON.stringify(match),
        state.createdAt ?? null, state.startedAt ?? null, state.completedAt ?? null,
      ],
    );
    const ref = jobRef(m);
    const id = m.jobId.toString();
    const facts: string[] = [];
    for (const t of transitions) {
      await client.query('INSERT INTO job_transitions (job_id, transition) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, t]);
      if (t === 'queued' && match.kind === 'matched') {
        facts.push('job.queued');
        await enqueueFact(client, 'job.queued', { $typeName: 'runnerhub.v1.JobQueued', job: ref, pool: match.pool, priority: PriorityClass.NORMAL, queuedAt: ts(state.createdAt), matchedAt: ts(new Date()) }, `job:${id}:queued`, traceparent);
      } else if (t === 'queued' && match.kind === 'unmatched') {
        facts.push('job.unmatched');
        await enqueueFact(
          client,
          'job.unmatched',
          {
            $typeName: 'runnerhub.v1.JobUnmatched',
            job: ref,
            reason: UnmatchedReason.NO_POOL_MATCHES,
            detail: match.closest.length === 0 ? 'no pool is defined' : `no pool has every label of runs-on: ${m.labels.join(', ')}`,
            missingLabels: match.closest[0]?.missing ?? [],
            closestPools: match.closest.map((c) => ({ $typeName: 'runnerhub.v1.ClosestPool' as const, pool: c.pool, missingLabels: c.missing })),
            queuedAt: ts(state.createdAt),
            decidedAt: ts(new Date()),
          },
          `job:${id}:unmatched`,
          traceparent,
        );
      } else if (t === 'started') {
        facts.push('job.started');
        await enqueueFact(client, 'job.started', { $typeName: 'runnerhub.v1.JobStarted', job: ref, pool: poolName ?? '', runnerId: BigInt(state.runnerId ?? 0), runnerName: state.runnerName ?? '', runnerGroupId: m.runnerGroupId, runnerGroupName: m.runnerGroupName, queuedAt: ts(state.createdAt), startedAt: ts(state.startedAt) }, `job:${id}:started`, traceparent);
      } else if (t === 'completed') {
        facts.push('job.completed');
        await enqueueFact(client, 'job.completed', { $typeName: 'runnerhub.v1.JobCompleted', job: ref, pool: poolName ?? '', conclusion: jobConclusionFromGitHub(state.conclusion ?? ''), runnerId: BigInt(state.runnerId ?? 0), runnerName: state.runnerName ?? '', queuedAt: ts(state.createdAt), startedAt: ts(state.startedAt), completedAt: ts(state.completedAt) }, `job:${id}:completed`, traceparent);
      }
    }
    await client.query('COMMIT');
    return facts;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
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

function matchFromRow(r: Row): Match {
  if (r.match === 'matched' && r.pool) return { kind: 'matched', pool: r.pool };
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
  createdAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
}

const COLUMNS = `job_id::text AS "jobId", repo_owner || '/' || repo_name AS repo, workflow_name AS "workflowName", job_name AS "jobName",
  labels, status, conclusion, match, pool, match_detail AS "matchDetail", runner_name AS "runnerName",
  created_at AS "createdAt", started_at AS "startedAt", completed_at AS "completedAt"`;

export function jobsQueries(pool: pg.Pool) {
  return {
    async list(f: { status?: string; pool?: string; limit: number }): Promise<JobRow[]> {
      const { rows } = await pool.query<JobRow>(
        `SELECT ${COLUMNS} FROM jobs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR pool = $2) ORDER BY first_seen_at DESC LIMIT $3`,
        [f.status ?? null, f.pool ?? null, f.limit],
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
