import type { NatsConnection } from '@nats-io/transport-node';
import {
  contractsCodec,
  jobConclusionWord,
  QueueReason,
  RunnerFailureReason,
  timestampDate,
  type JobCompleted,
  type JobQueued,
  type JobRef,
  type JobStarted,
  type JobStuck,
  type JobUnmatched,
  type RunnerExited,
  type RunnerFailed,
  type RunnerRef,
  type SubjectMessages,
  type Timestamp,
  UnmatchedReason,
} from '@runnerhub/contracts';
import { createConsumer, type Consumer, type Logger } from '@runnerhub/platform';
import type { ReporterMetrics } from './metrics.js';
import type { PoolOptions } from './pools.js';
import type { JobInfo, ReportDetails, ReportKind, Resolution } from './render.js';
import { reportingAllowed, type Switches } from './report-state.js';
import type { JobFactRow, JobKey, JobRow, Merge, Store } from './store.js';

/** job.unmatched reasons that are refusals (origin.ts of the scheduler): their check run says how to allow the job. */
const REFUSALS: Partial<Record<UnmatchedReason, 'public_repository' | 'fork_pull_request'>> = {
  [UnmatchedReason.PUBLIC_REPOSITORY]: 'public_repository',
  [UnmatchedReason.FORK_PULL_REQUEST]: 'fork_pull_request',
};

/**
 * Job and runner facts in, report intents out. Every handler is idempotent: facts fold into rows
 * whose status only moves forward, and a report changes (and goes to GitHub again) only when what it
 * would show changes, so a duplicate fact or any order of facts writes no second check run.
 *
 * The durable names are persisted server state (each consumer's place in its stream): never rename them.
 */
export const JOB_FACTS_DURABLE = 'status-reporter-job-facts';
export const RUNNER_FACTS_DURABLE = 'status-reporter-runner-facts';

export interface FactDeps {
  store: Store;
  pools: PoolOptions;
  switches: Switches;
  /** REPORTER_FAILED_MAX_JOBS */
  failedMaxJobs: number;
  metrics: ReporterMetrics;
  log: Logger;
  /** A report became pending: the sender should look now. */
  wake(): void;
}

const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : undefined);
const date = (t: Timestamp | undefined) => (t ? timestampDate(t) : undefined);

function jobInfo(ref: JobRef): JobFactRow['job'] {
  return {
    jobId: ref.jobId.toString(),
    jobName: ref.jobName,
    workflowName: ref.workflowName,
    repo: ref.repository?.fullName || `${ref.repository?.owner ?? ''}/${ref.repository?.name ?? ''}`,
    labels: [...ref.labels],
    htmlUrl: ref.htmlUrl,
    installationId: ref.installationId.toString(),
    repoOwner: ref.repository?.owner ?? '',
    repoName: ref.repository?.name ?? '',
    headSha: ref.headSha,
  };
}

function fromRow(j: JobRow): JobFactRow['job'] {
  return {
    jobId: j.jobId,
    jobName: j.jobName,
    workflowName: j.workflowName,
    repo: `${j.repoOwner}/${j.repoName}`,
    labels: j.labels,
    htmlUrl: j.htmlUrl,
    installationId: j.installationId,
    repoOwner: j.repoOwner,
    repoName: j.repoName,
    headSha: j.headSha,
  };
}

const info = (j: JobFactRow['job']): JobInfo => ({ jobId: j.jobId, jobName: j.jobName, workflowName: j.workflowName, repo: j.repo, labels: j.labels, htmlUrl: j.htmlUrl });
const key = (j: JobFactRow['job'], pool: string | null): JobKey => ({ jobId: j.jobId, installationId: j.installationId, repoOwner: j.repoOwner, repoName: j.repoName, headSha: j.headSha, pool });

/** Without an installation, a repository and a commit there is nowhere to write a check run. */
function addressable(j: JobFactRow['job']): boolean {
  return j.installationId !== '0' && j.repoOwner !== '' && j.repoName !== '' && j.headSha !== '';
}

/** The job's own state, for a diagnostic report that arrives after the job moved on. */
function resolutionOf(j: JobRow | undefined): Resolution | undefined {
  if (!j || j.status === 'queued') return undefined;
  if (j.status === 'started') return { how: 'started', at: (j.startedAt ?? new Date()).toISOString(), ...(j.runnerName ? { runnerName: j.runnerName } : {}) };
  return { how: 'completed', at: (j.completedAt ?? new Date()).toISOString(), ...(j.conclusion ? { conclusion: j.conclusion } : {}) };
}

export function createFactHandlers(deps: FactDeps) {
  const { store } = deps;

  const write = async (j: JobFactRow['job'], pool: string | null, kind: ReportKind, merge: Merge, create = true) => {
    if (!addressable(j)) {
      deps.log.debug({ jobId: j.jobId, kind }, 'job has no installation, repository or commit: nothing to report on');
      return;
    }
    if (create && !reportingAllowed(kind, j.installationId, deps.pools.reporting(pool), deps.switches)) return;
    const result = await store.upsertReport(key(j, pool), kind, merge, { create });
    if (result === 'skipped') return;
    deps.metrics.fact(kind, result);
    if (result !== 'unchanged') deps.wake();
  };

  /** The job was taken or ended: open diagnostic reports say so (and stop being red). */
  const resolve = async (j: JobFactRow['job'], resolution: Resolution) => {
    for (const kind of ['unmatched', 'stuck', 'runner_failed'] as const) {
      await write(j, null, kind, (prev) => (prev && prev.kind !== 'job_report' && !prev.resolution ? { ...prev, resolution } : undefined), false);
    }
  };

  /** A job that moved on while its report was being written (facts run in parallel) is resolved now. */
  const settle = async (j: JobFactRow['job']) => {
    const resolution = resolutionOf(await store.job(j.jobId));
    if (resolution) await resolve(j, resolution);
  };

  const jobReport = async (j: JobFactRow['job'], row: JobRow) => {
    if (!row.pool || !row.runnerName) return;
    const runner = await store.runner(row.runnerName);
    const details: ReportDetails = {
      kind: 'job_report',
      job: info(j),
      pool: row.pool,
      conclusion: row.conclusion ?? '',
      runnerName: row.runnerName,
      ...(runner?.host ? { host: runner.host } : {}),
      ...(row.queuedAt ? { queuedAt: row.queuedAt.toISOString() } : {}),
      ...(row.startedAt ? { startedAt: row.startedAt.toISOString() } : {}),
      ...(row.completedAt ? { completedAt: row.completedAt.toISOString() } : {}),
      ...(runner?.cpuSeconds != null ? { cpuSeconds: runner.cpuSeconds } : {}),
      ...(runner?.peakMemoryBytes != null ? { peakMemoryBytes: Number(runner.peakMemoryBytes) } : {}),
    };
    await write(j, row.pool, 'job_report', () => details);
  };

  return {
    async queued(m: JobQueued): Promise<void> {
      if (!m.job) return;
      await store.recordJob({ job: jobInfo(m.job), pool: m.pool || null, status: 'queued', queuedAt: date(m.queuedAt) });
    },

    async unmatched(m: JobUnmatched): Promise<void> {
      if (!m.job) return;
      const j = jobInfo(m.job);
      await store.recordJob({ job: j, pool: null, status: 'queued', queuedAt: date(m.queuedAt) });
      const row = await store.job(j.jobId);
      const queuedAt = iso(m.queuedAt);
      await write(j, null, 'unmatched', (prev) => {
        const resolution = (prev?.kind === 'unmatched' ? prev.resolution : undefined) ?? resolutionOf(row);
        return {
          kind: 'unmatched',
          job: info(j),
          detail: m.detail,
          closestPools: m.closestPools.map((p) => ({ pool: p.pool, missing: [...p.missingLabels] })),
          ...(queuedAt ? { queuedAt } : {}),
          ...(resolution ? { resolution } : {}),
          ...(REFUSALS[m.reason] ? { refusal: REFUSALS[m.reason] } : {}),
        };
      });
      await settle(j);
    },

    async stuck(m: JobStuck): Promise<void> {
      if (!m.job) return;
      const j = jobInfo(m.job);
      await store.recordJob({ job: j, pool: m.pool || null, status: 'queued', queuedAt: date(m.queuedAt) });
      const row = await store.job(j.jobId);
      const why = m.why;
      const queuedAt = iso(m.queuedAt);
      const detectedAt = iso(m.detectedAt);
      const since = iso(why?.since);
      await write(j, m.pool || null, 'stuck', (prev) => {
        const resolution = (prev?.kind === 'stuck' ? prev.resolution : undefined) ?? resolutionOf(row);
        return {
          kind: 'stuck',
          job: info(j),
          pool: m.pool,
          expectedStartSeconds: m.expectedStartSeconds,
          ...(queuedAt ? { queuedAt } : {}),
          ...(detectedAt ? { detectedAt } : {}),
          why: {
            reason: QueueReason[why?.reason ?? QueueReason.UNSPECIFIED] ?? 'UNSPECIFIED',
            detail: why?.detail ?? '',
            closestPools: (why?.closestPools ?? []).map((p) => ({ pool: p.pool, missing: [...p.missingLabels] })),
            lastError: why?.lastError ?? '',
            ...(since ? { since } : {}),
          },
          ...(resolution ? { resolution } : {}),
        };
      });
      await settle(j);
    },

    async started(m: JobStarted): Promise<void> {
      if (!m.job) return;
      const j = jobInfo(m.job);
      const startedAt = date(m.startedAt) ?? new Date();
      await store.recordJob({ job: j, pool: m.pool || null, status: 'started', runnerName: m.runnerName, queuedAt: date(m.queuedAt), startedAt });
      await resolve(j, { how: 'started', at: startedAt.toISOString(), ...(m.runnerName ? { runnerName: m.runnerName } : {}) });
    },

    async completed(m: JobCompleted): Promise<void> {
      if (!m.job) return;
      const j = jobInfo(m.job);
      const completedAt = date(m.completedAt) ?? new Date();
      const conclusion = jobConclusionWord(m.conclusion);
      await store.recordJob({
        job: j,
        pool: m.pool || null,
        status: 'completed',
        runnerName: m.runnerName,
        ...(conclusion ? { conclusion } : {}),
        queuedAt: date(m.queuedAt),
        startedAt: date(m.startedAt),
        completedAt,
      });
      await resolve(j, { how: 'completed', at: completedAt.toISOString(), ...(conclusion ? { conclusion } : {}) });
      const row = await store.job(j.jobId);
      if (row) await jobReport(j, row);
    },

    async runnerSeen(r: RunnerRef | undefined): Promise<void> {
      if (!r?.runnerName) return;
      await store.recordRunner({ runnerName: r.runnerName, pool: r.pool, host: r.host });
    },

    async runnerExited(m: RunnerExited): Promise<void> {
      const r = m.runner;
      if (!r?.runnerName) return;
      await store.recordRunner({ runnerName: r.runnerName, pool: r.pool, host: r.host, cpuSeconds: m.cpuSeconds, peakMemoryBytes: m.peakMemoryBytes, exitCode: m.exitCode });
      // A job report written before the container's figures arrived gets them now.
      for (const row of await store.jobsOfRunner(r.runnerName)) {
        if (row.status === 'completed') await jobReport(fromRow(row), row);
      }
    },

    /**
     * A runner names a pool, not a job (GitHub hands any waiting job to any fitting runner): the
     * failure is reported on the jobs of that pool that are waiting now, the oldest first.
     */
    async runnerFailed(m: RunnerFailed): Promise<void> {
      const r = m.runner;
      if (!r?.runnerName || !r.pool) return;
      await store.recordRunner({ runnerName: r.runnerName, pool: r.pool, host: r.host, ...(m.exitCode !== 0 ? { exitCode: m.exitCode } : {}) });
      const failedAt = iso(m.failedAt);
      const latest = {
        runnerName: r.runnerName,
        host: r.host,
        reason: RunnerFailureReason[m.reason] ?? 'UNSPECIFIED',
        message: m.message,
        lastLogLines: [...m.lastLogLines],
        exitCode: m.exitCode,
        ...(failedAt ? { failedAt } : {}),
      };
      for (const row of await store.waitingJobs(r.pool, deps.failedMaxJobs)) {
        const j = fromRow(row);
        await write(j, r.pool, 'runner_failed', (prev) => {
          const before = prev?.kind === 'runner_failed' ? prev : undefined;
          // The same runner's failure again (a duplicate fact, or both publishers) counts once.
          const failures = (before?.failures ?? 0) + (before?.latest.runnerName === r.runnerName ? 0 : 1);
          return { kind: 'runner_failed', job: info(j), pool: r.pool, failures, latest };
        });
        await settle(j);
      }
    },
  };
}

export type FactHandlers = ReturnType<typeof createFactHandlers>;

export async function consumeFacts(nc: NatsConnection, handlers: FactHandlers, log: Logger): Promise<Consumer[]> {
  const jobFacts = await createConsumer<SubjectMessages, 'job.*'>(nc, {
    name: 'status-reporter.job-facts',
    stream: 'JOBS',
    durable: JOB_FACTS_DURABLE,
    filterSubject: 'job.*',
    codec: contractsCodec,
    // Rows are locked per report, so facts of different jobs may run in parallel.
    concurrency: 4,
    log,
    handlers: {
      'job.queued': (fact) => handlers.queued(fact),
      'job.unmatched': (fact) => handlers.unmatched(fact),
      'job.stuck': (fact) => handlers.stuck(fact),
      'job.started': (fact) => handlers.started(fact),
      'job.completed': (fact) => handlers.completed(fact),
    },
  });
  const runnerFacts = await createConsumer<SubjectMessages, 'runner.*'>(nc, {
    name: 'status-reporter.runner-facts',
    stream: 'RUNNERS',
    durable: RUNNER_FACTS_DURABLE,
    filterSubject: 'runner.*',
    codec: contractsCodec,
    concurrency: 2,
    log,
    handlers: {
      'runner.failed': (fact) => handlers.runnerFailed(fact),
      'runner.exited': (fact) => handlers.runnerExited(fact),
      // Any other fact about a runner still names it: the runner is alive, whatever it did.
      'runner.requested': (fact) => handlers.runnerSeen(fact.runner),
      'runner.registered': (fact) => handlers.runnerSeen(fact.runner),
      'runner.started': (fact) => handlers.runnerSeen(fact.runner),
      'runner.removed': (fact) => handlers.runnerSeen(fact.runner),
    },
  });
  return [jobFacts, runnerFacts];
}
