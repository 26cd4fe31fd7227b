import type pg from 'pg';
import { contentHash, externalId, render, type JobInfo, type RenderedCheckRun, type ReportDetails, type ReportKind } from './render.js';
import type { ReportState } from './report-state.js';

/**
 * status_reporter's tables (migrations/001_reports.sql), written only through these functions.
 * `reports` is the outbox: a fact writes the intent (details, rendered output, content hash) and the
 * sender makes GitHub match it.
 */

export interface JobKey {
  jobId: string;
  installationId: string;
  repoOwner: string;
  repoName: string;
  headSha: string;
  pool: string | null;
}

export interface JobFactRow {
  job: JobInfo & { installationId: string; repoOwner: string; repoName: string; headSha: string };
  pool: string | null;
  status: 'queued' | 'started' | 'completed';
  runnerName?: string;
  conclusion?: string;
  queuedAt?: Date;
  startedAt?: Date;
  completedAt?: Date;
}

export interface JobRow {
  jobId: string;
  installationId: string;
  repoOwner: string;
  repoName: string;
  headSha: string;
  jobName: string;
  workflowName: string;
  labels: string[];
  htmlUrl: string;
  pool: string | null;
  status: 'queued' | 'started' | 'completed';
  runnerName: string | null;
  conclusion: string | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
}

export interface RunnerRow {
  runnerName: string;
  pool: string;
  host: string;
  cpuSeconds: number | null;
  peakMemoryBytes: string | null;
  exitCode: number | null;
}

/** A report as the sender and the admin API see it. */
export interface ReportRow {
  id: string;
  jobId: string;
  kind: ReportKind;
  installationId: string;
  repoOwner: string;
  repoName: string;
  headSha: string;
  pool: string | null;
  name: string;
  externalId: string;
  details: ReportDetails;
  output: RenderedCheckRun;
  contentHash: string;
  sentHash: string | null;
  checkRunId: string | null;
  htmlUrl: string | null;
  state: ReportState;
  attempts: number;
  createAttempts: number;
  lastError: string | null;
  nextAttemptAt: Date;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
}

const REPORT_COLUMNS = `id::text, job_id::text AS "jobId", kind, installation_id::text AS "installationId", repo_owner AS "repoOwner",
  repo_name AS "repoName", head_sha AS "headSha", pool, name, external_id AS "externalId", details, output,
  content_hash AS "contentHash", sent_hash AS "sentHash", check_run_id::text AS "checkRunId", html_url AS "htmlUrl", state, attempts,
  create_attempts AS "createAttempts", last_error AS "lastError", next_attempt_at AS "nextAttemptAt", created_at AS "createdAt",
  updated_at AS "updatedAt", sent_at AS "sentAt"`;

const JOB_COLUMNS = `job_id::text AS "jobId", installation_id::text AS "installationId", repo_owner AS "repoOwner", repo_name AS "repoName",
  head_sha AS "headSha", job_name AS "jobName", workflow_name AS "workflowName", labels, html_url AS "htmlUrl", pool, status,
  runner_name AS "runnerName", conclusion, queued_at AS "queuedAt", started_at AS "startedAt", completed_at AS "completedAt"`;

/** Merges a fact into a report's details; `undefined` from the merge leaves the report as it is. */
export type Merge = (previous: ReportDetails | undefined) => ReportDetails | undefined;

export type UpsertResult = 'created' | 'changed' | 'unchanged' | 'skipped';

export function createStore(db: pg.Pool) {
  return {
    /** Folds a job fact into `jobs`; the status only moves forward, fields only fill in. */
    async recordJob(f: JobFactRow): Promise<void> {
      const j = f.job;
      await db.query(
        `INSERT INTO jobs (job_id, installation_id, repo_owner, repo_name, head_sha, job_name, workflow_name, labels, html_url, pool, status,
                           runner_name, conclusion, queued_at, started_at, completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (job_id) DO UPDATE SET
           pool = COALESCE(jobs.pool, EXCLUDED.pool),
           status = CASE WHEN array_position(ARRAY['queued','started','completed'], EXCLUDED.status) > array_position(ARRAY['queued','started','completed'], jobs.status)
                         THEN EXCLUDED.status ELSE jobs.status END,
           runner_name = COALESCE(EXCLUDED.runner_name, jobs.runner_name),
           conclusion = COALESCE(EXCLUDED.conclusion, jobs.conclusion),
           queued_at = COALESCE(jobs.queued_at, EXCLUDED.queued_at),
           started_at = COALESCE(jobs.started_at, EXCLUDED.started_at),
           completed_at = COALESCE(jobs.completed_at, EXCLUDED.completed_at),
           updated_at = now()`,
        [
          j.jobId, j.installationId, j.repoOwner, j.repoName, j.headSha, j.jobName, j.workflowName, j.labels, j.htmlUrl, f.pool, f.status,
          f.runnerName || null, f.conclusion || null, f.queuedAt ?? null, f.startedAt ?? null, f.completedAt ?? null,
        ],
      );
    },

    async job(jobId: string): Promise<JobRow | undefined> {
      const { rows } = await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE job_id = $1`, [jobId]);
      return rows[0];
    },

    /** Jobs of `pool` still waiting for a runner, the oldest first. */
    async waitingJobs(pool: string, max: number): Promise<JobRow[]> {
      const { rows } = await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE pool = $1 AND status = 'queued' ORDER BY queued_at NULLS LAST, job_id LIMIT $2`, [pool, max]);
      return rows;
    },

    async jobsOfRunner(runnerName: string): Promise<JobRow[]> {
      const { rows } = await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE runner_name = $1`, [runnerName]);
      return rows;
    },

    async recordRunner(r: { runnerName: string; pool: string; host: string; cpuSeconds?: number; peakMemoryBytes?: bigint; exitCode?: number }): Promise<void> {
      await db.query(
        `INSERT INTO runners (runner_name, pool, host, cpu_seconds, peak_memory_bytes, exit_code) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (runner_name) DO UPDATE SET
           host = CASE WHEN EXCLUDED.host <> '' THEN EXCLUDED.host ELSE runners.host END,
           cpu_seconds = COALESCE(EXCLUDED.cpu_seconds, runners.cpu_seconds),
           peak_memory_bytes = COALESCE(EXCLUDED.peak_memory_bytes, runners.peak_memory_bytes),
           exit_code = COALESCE(EXCLUDED.exit_code, runners.exit_code),
           updated_at = now()`,
        [r.runnerName, r.pool, r.host, r.cpuSeconds ?? null, r.peakMemoryBytes?.toString() ?? null, r.exitCode ?? null],
      );
    },

    async runner(runnerName: string): Promise<RunnerRow | undefined> {
      const { rows } = await db.query<RunnerRow>(
        `SELECT runner_name AS "runnerName", pool, host, cpu_seconds AS "cpuSeconds", peak_memory_bytes::text AS "peakMemoryBytes", exit_code AS "exitCode"
           FROM runners WHERE runner_name = $1`,
        [runnerName],
      );
      return rows[0];
    },

    /**
     * The one place a report is written from a fact: creates the (job, kind) row or merges into it,
     * re-renders, and makes it pending again only when what GitHub would show changed. A duplicate
     * fact therefore changes nothing. Runs in one transaction with the row locked.
     */
    async upsertReport(key: JobKey, kind: ReportKind, merge: Merge, opts: { create: boolean }): Promise<UpsertResult> {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        for (;;) {
          const { rows } = await client.query<{ id: string; details: ReportDetails; contentHash: string; sentHash: string | null; state: ReportState }>(
            `SELECT id::text, details, content_hash AS "contentHash", sent_hash AS "sentHash", state FROM reports WHERE job_id = $1 AND kind = $2 FOR UPDATE`,
            [key.jobId, kind],
          );
          const existing = rows[0];
          if (!existing) {
            if (!opts.create) break;
            const details = merge(undefined);
            if (!details) break;
            const output = render(details);
            const disabled = await client.query('SELECT 1 FROM disabled_installations WHERE installation_id = $1', [key.installationId]);
            const inserted = await client.query(
              `INSERT INTO reports (job_id, kind, installation_id, repo_owner, repo_name, head_sha, pool, name, external_id, details, output, content_hash, state)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (job_id, kind) DO NOTHING RETURNING id`,
              [
                key.jobId, kind, key.installationId, key.repoOwner, key.repoName, key.headSha, key.pool, output.name, externalId(key.jobId, kind),
                JSON.stringify(details), JSON.stringify(output), contentHash(output), disabled.rowCount ? 'disabled' : 'pending',
              ],
            );
            // Another worker inserted it between our SELECT and INSERT: merge into theirs.
            if (inserted.rowCount === 0) continue;
            await client.query('COMMIT');
            return 'created';
          }
          const details = merge(existing.details);
          if (!details) break;
          const output = render(details);
          const hash = contentHash(output);
          if (hash === existing.contentHash) break;
          // The name stays what the check run was created with (it is how we find it again).
          await client.query(
            `UPDATE reports SET details = $2, output = jsonb_set($3::jsonb, '{name}', to_jsonb(name)), content_hash = $4,
                    state = CASE WHEN state = 'disabled' THEN 'disabled' WHEN sent_hash IS NOT DISTINCT FROM $4 THEN 'sent' ELSE 'pending' END,
                    attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END,
                    -- A pending report keeps its schedule (a backoff or a rate-limit wait stands).
                    next_attempt_at = CASE WHEN state IN ('sent', 'failed') THEN now() ELSE next_attempt_at END,
                    updated_at = now()
              WHERE id = $1`,
            [existing.id, JSON.stringify(details), JSON.stringify(output), hash],
          );
          await client.query('COMMIT');
          return 'changed';
        }
        await client.query('COMMIT');
        return 'unchanged';
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    /**
     * Takes up to `max` due pending reports for `claimMs`, so no other sender works on them meanwhile.
     * A sender that dies leaves its claim to expire; the next one looks up what it may have created.
     */
    async claimDue(max: number, claimMs: number): Promise<ReportRow[]> {
      const { rows } = await db.query<ReportRow>(
        `UPDATE reports SET claimed_until = now() + make_interval(secs => $2::double precision / 1000)
          WHERE id IN (
            SELECT id FROM reports
             WHERE state = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
               AND installation_id NOT IN (SELECT installation_id FROM disabled_installations)
             ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING ${REPORT_COLUMNS}`,
        [max, claimMs],
      );
      return rows;
    },

    /** The intent, committed before the POST: a later sender knows a check run may exist already. */
    async markCreating(id: string): Promise<void> {
      await db.query('UPDATE reports SET create_attempts = create_attempts + 1, updated_at = now() WHERE id = $1', [id]);
    },

    /** Gives claims back unprocessed (on shutdown), so another sender need not wait for them to expire. */
    async release(ids: string[]): Promise<void> {
      if (ids.length > 0) await db.query('UPDATE reports SET claimed_until = NULL WHERE id = ANY($1::bigint[])', [ids]);
    },

    /** GitHub has `hash` in check run `checkRunId`. Still pending if the content changed meanwhile. */
    async recordSent(id: string, checkRunId: string, htmlUrl: string | null, hash: string): Promise<void> {
      await db.query(
        `UPDATE reports SET check_run_id = $2, html_url = COALESCE($3, html_url), sent_hash = $4,
                state = CASE WHEN state = 'pending' AND content_hash = $4 THEN 'sent' ELSE state END,
                attempts = 0, last_error = NULL, claimed_until = NULL, sent_at = now(), updated_at = now()
          WHERE id = $1`,
        [id, checkRunId, htmlUrl, hash],
      );
    },

    /** A failed attempt: the state the pure rules chose, unless the report was disabled meanwhile. */
    async recordFailure(id: string, next: { state: ReportState; attempts: number; delayMs: number }, error: string): Promise<void> {
      await db.query(
        `UPDATE reports SET state = CASE WHEN state = 'pending' THEN $2 ELSE state END, attempts = attempts + $3,
                next_attempt_at = now() + make_interval(secs => $4::double precision / 1000), last_error = $5, claimed_until = NULL, updated_at = now()
          WHERE id = $1`,
        [id, next.state, next.attempts, next.delayMs, error.slice(0, 2_000)],
      );
    },

    /** Returns true when this call disabled it (so the log line and the metric happen once). */
    async disableInstallation(installationId: string, reason: string): Promise<boolean> {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        const inserted = await client.query('INSERT INTO disabled_installations (installation_id, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING', [installationId, reason]);
        await client.query(`UPDATE reports SET state = 'disabled', claimed_until = NULL, updated_at = now() WHERE installation_id = $1 AND state = 'pending'`, [installationId]);
        await client.query('COMMIT');
        return (inserted.rowCount ?? 0) > 0;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    /** Lets reports of the installation go to GitHub again; returns how many were requeued, or undefined if it was not disabled. */
    async enableInstallation(installationId: string): Promise<number | undefined> {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        const deleted = await client.query('DELETE FROM disabled_installations WHERE installation_id = $1', [installationId]);
        const requeued = await client.query(
          `UPDATE reports SET state = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, updated_at = now()
            WHERE installation_id = $1 AND state = 'disabled'`,
          [installationId],
        );
        await client.query('COMMIT');
        return (deleted.rowCount ?? 0) > 0 || (requeued.rowCount ?? 0) > 0 ? (requeued.rowCount ?? 0) : undefined;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    async disabledInstallations(): Promise<Array<{ installationId: string; reason: string; disabledAt: Date }>> {
      const { rows } = await db.query<{ installationId: string; reason: string; disabledAt: Date }>(
        'SELECT installation_id::text AS "installationId", reason, disabled_at AS "disabledAt" FROM disabled_installations ORDER BY disabled_at',
      );
      return rows;
    },

    async isDisabled(installationId: string): Promise<boolean> {
      return ((await db.query('SELECT 1 FROM disabled_installations WHERE installation_id = $1', [installationId])).rowCount ?? 0) > 0;
    },

    /** Sends the report again (also a sent one: GitHub gets the content once more). */
    async retry(id: string): Promise<'retried' | 'not_found' | 'disabled'> {
      const { rows } = await db.query<{ state: ReportState }>('SELECT state FROM reports WHERE id = $1', [id]);
      if (!rows[0]) return 'not_found';
      if (rows[0].state === 'disabled') return 'disabled';
      await db.query(
        `UPDATE reports SET state = 'pending', sent_hash = NULL, attempts = 0, last_error = NULL, next_attempt_at = now(), updated_at = now() WHERE id = $1`,
        [id],
      );
      return 'retried';
    },

    async report(id: string): Promise<ReportRow | undefined> {
      const { rows } = await db.query<ReportRow>(`SELECT ${REPORT_COLUMNS} FROM reports WHERE id = $1`, [id]);
      return rows[0];
    },

    async reports(f: { state?: string; kind?: string; installationId?: string; jobId?: string; pool?: string; limit: number }): Promise<ReportRow[]> {
      const { rows } = await db.query<ReportRow>(
        `SELECT ${REPORT_COLUMNS} FROM reports
          WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::bigint IS NULL OR installation_id = $3)
            AND ($4::bigint IS NULL OR job_id = $4) AND ($5::text IS NULL OR pool = $5)
          ORDER BY updated_at DESC, id DESC LIMIT $6`,
        [f.state ?? null, f.kind ?? null, f.installationId ?? null, f.jobId ?? null, f.pool ?? null, f.limit],
      );
      return rows;
    },
  };
}

export type Store = ReturnType<typeof createStore>;
