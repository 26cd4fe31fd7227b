import type { Attributes, Meter } from '@opentelemetry/api';
import type { DeadLetter, JobCompleted, JobQueued, JobRef, JobStarted, JobStuck, JobUnmatched, RunnerExited, RunnerFailed, RunnerRemoved, RunnerRequested, RunnerStarted } from '@runnerhub/contracts';
import {
  cappedValues,
  cicdResult,
  CONCLUSIONS,
  conclusionLabel,
  DEAD_LETTER_REASONS,
  deadLetterReason,
  EXIT_REASONS,
  FAILURE_REASONS,
  failureReason,
  poolLabel,
  queueReason,
  removalReason,
  secondsBetween,
  STUCK_REASONS,
  timestampSeconds,
  UNMATCHED_REASONS,
  unmatchedReason,
} from './labels.js';

/**
 * Counters and histograms fed by facts (job.*, runner.*, dead.>, gh.>): each fact counts once, when
 * it is consumed. Names follow Prometheus (base units, `_total` added by the exporter to counters);
 * where the OpenTelemetry CI/CD conventions define a metric it is recorded under that name too
 * (docs/observability.md lists both).
 */

export interface FactOptions {
  /** Adds `repository` to the job metrics (METRICS_REPOSITORY_LABELS). */
  repositoryLabels: boolean;
  /** Distinct `cicd.pipeline.name` values kept (METRICS_MAX_PIPELINE_NAMES). */
  maxPipelineNames: number;
}

/** Queue and run times: from seconds to GitHub's 6-hour job limit (and its 24-hour queue limit). */
const JOB_SECONDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
/** Runner start: JIT registration, container create and start; minutes mean an image pull. */
const START_SECONDS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const MEMORY_BYTES = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384].map((mb) => mb * 1024 * 1024);
/** The runner.requested facts kept waiting for their runner.started (more than any deployment runs at once). */
const MAX_REQUESTED = 10_000;

export function factMetrics(meter: Meter, options: FactOptions) {
  const counter = (name: string, description: string) => meter.createCounter(name, { description });
  const jobsQueued = counter('runnerhub_jobs_queued', 'Jobs matched to a pool (job.queued), by pool.');
  const jobsStarted = counter('runnerhub_jobs_started', 'Jobs a runner took (job.started), by pool.');
  const jobsCompleted = counter('runnerhub_jobs_completed', 'Jobs that ended (job.completed), by pool and GitHub conclusion.');
  const jobsUnmatched = counter('runnerhub_jobs_unmatched', 'Jobs no pool can serve (job.unmatched), by reason.');
  const jobsStuck = counter('runnerhub_jobs_stuck', "Jobs queued beyond their pool's expected start time (job.stuck), by pool and reason.");
  const queueTime = meter.createHistogram('runnerhub_job_queue_duration_seconds', {
    description: "Queue time: GitHub's created_at to the job's start on a runner, per pool.",
    unit: 's',
    advice: { explicitBucketBoundaries: JOB_SECONDS },
  });
  const runTime = meter.createHistogram('runnerhub_job_run_duration_seconds', {
    description: 'Run time: start on a runner to completion, per pool and conclusion.',
    unit: 's',
    advice: { explicitBucketBoundaries: JOB_SECONDS },
  });
  // OpenTelemetry CI/CD semantic conventions (release candidate). A GitHub job is the unit here.
  const cicdDuration = meter.createHistogram('cicd.pipeline.run.duration', {
    description: 'Duration of a job in one state: pending (queued until a runner took it) or executing (on the runner).',
    unit: 's',
    advice: { explicitBucketBoundaries: JOB_SECONDS },
  });
  const cicdErrors = meter.createCounter('cicd.pipeline.run.errors', { description: 'Jobs that did not succeed, by error type (their result).', unit: '{error}' });
  const cicdSystemErrors = meter.createCounter('cicd.system.errors', { description: 'Errors of the CI/CD system itself: runner provisioning and dead letters.', unit: '{error}' });

  const runnersRequested = counter('runnerhub_runners_requested', 'Runners the pool-manager asked for (runner.requested), by pool.');
  const runnersStarted = counter('runnerhub_runners_started', 'Runner containers started (runner.started), by pool.');
  const runnerStart = meter.createHistogram('runnerhub_runner_start_duration_seconds', {
    description: 'Runner start time: requested by the pool-manager to its container running, per pool.',
    unit: 's',
    advice: { explicitBucketBoundaries: START_SECONDS },
  });
  const bootFailures = counter('runnerhub_runner_boot_failures', 'Runners that failed before taking a job (runner.failed), by pool and reason.');
  const runnersRemoved = counter('runnerhub_runners_removed', 'Runners removed (runner.removed), by pool and reason.');
  const containerExits = counter('runnerhub_container_exits', 'Runner containers that stopped (runner.exited), by pool and reason: completed (exit 0), error, oom.');
  const containerCpu = meter.createCounter('runnerhub_container_cpu_seconds', { description: 'CPU time used by runner containers that exited, by pool.', unit: 's' });
  const containerMemory = meter.createHistogram('runnerhub_container_peak_memory_bytes', {
    description: 'Peak memory of runner containers that exited, per pool.',
    unit: 'By',
    advice: { explicitBucketBoundaries: MEMORY_BYTES },
  });
  const deadLetters = counter('runnerhub_dead_letters', 'Messages a consumer gave up on (dead.>), by source stream and kind of reason. The consumer is in the dead letter itself (admin API).');
  const githubEvents = counter('runnerhub_github_events', 'Webhook deliveries the gateway persisted to JetStream (gh.>), by event and action.');

  const pipelineName = cappedValues(options.maxPipelineNames);
  const requestedAt = new Map<string, number>();
  const initialised = new Set<string>();

  const jobLabels = (pool: string | undefined, job: JobRef | undefined, extra: Attributes = {}): Attributes => {
    const labels: Attributes = { pool: poolLabel(pool), ...extra };
    if (options.repositoryLabels) labels['repository'] = job?.repository?.fullName || 'unknown';
    return labels;
  };
  const cicdLabels = (job: JobRef | undefined, pool: string | undefined) => ({
    'cicd.pipeline.name': pipelineName(job?.workflowName ?? ''),
    'runnerhub.pool': poolLabel(pool),
  });

  return {
    /**
     * Counters of a pool start at 0 for every label value, so rate() and increase() see the first
     * event and dashboards show 0 rather than nothing (Prometheus "avoid missing metrics").
     */
    knowPool(pool: string) {
      if (initialised.has(pool) || options.repositoryLabels) return;
      initialised.add(pool);
      jobsQueued.add(0, { pool });
      jobsStarted.add(0, { pool });
      for (const conclusion of CONCLUSIONS) jobsCompleted.add(0, { pool, conclusion });
      runnersRequested.add(0, { pool });
      runnersStarted.add(0, { pool });
      for (const reason of FAILURE_REASONS) bootFailures.add(0, { pool, reason });
      for (const reason of EXIT_REASONS) containerExits.add(0, { pool, reason });
      for (const reason of STUCK_REASONS) jobsStuck.add(0, { pool, reason });
      containerCpu.add(0, { pool });
    },
    knowStream(stream: string) {
      for (const reason of DEAD_LETTER_REASONS) deadLetters.add(0, { stream, reason });
      for (const reason of UNMATCHED_REASONS) jobsUnmatched.add(0, { reason });
    },

    jobQueued(f: JobQueued) {
      jobsQueued.add(1, jobLabels(f.pool, f.job));
    },
    jobUnmatched(f: JobUnmatched) {
      jobsUnmatched.add(1, { reason: unmatchedReason(f.reason) });
    },
    jobStuck(f: JobStuck) {
      jobsStuck.add(1, { pool: poolLabel(f.pool), reason: queueReason(f.why?.reason ?? 0) });
    },
    jobStarted(f: JobStarted) {
      jobsStarted.add(1, jobLabels(f.pool, f.job));
      const waited = secondsBetween(f.queuedAt, f.startedAt);
      if (waited !== undefined) queueTime.record(waited, jobLabels(f.pool, f.job));
    },
    jobCompleted(f: JobCompleted) {
      const conclusion = conclusionLabel(f.conclusion);
      jobsCompleted.add(1, jobLabels(f.pool, f.job, { conclusion }));
      const ran = secondsBetween(f.startedAt, f.completedAt);
      if (ran !== undefined) runTime.record(ran, jobLabels(f.pool, f.job, { conclusion }));
      const result = cicdResult(f.conclusion);
      const cicd = { ...cicdLabels(f.job, f.pool), 'cicd.pipeline.result': result };
      // Pending until a runner took it, or until it ended without one (a cancelled queued job).
      const pending = secondsBetween(f.queuedAt, f.startedAt ?? f.completedAt);
      if (pending !== undefined) cicdDuration.record(pending, { ...cicd, 'cicd.pipeline.run.state': 'pending' });
      if (ran !== undefined) cicdDuration.record(ran, { ...cicd, 'cicd.pipeline.run.state': 'executing' });
      if (result !== 'success' && result !== 'skip') cicdErrors.add(1, { 'cicd.pipeline.name': cicd['cicd.pipeline.name'], 'error.type': result });
    },

    runnerRequested(f: RunnerRequested) {
      const pool = poolLabel(f.runner?.pool);
      runnersRequested.add(1, { pool });
      const at = timestampSeconds(f.requestedAt);
      if (f.runner?.runnerId && at !== undefined) {
        requestedAt.set(f.runner.runnerId, at);
        if (requestedAt.size > MAX_REQUESTED) requestedAt.delete(requestedAt.keys().next().value!);
      }
    },
    runnerStarted(f: RunnerStarted) {
      const pool = poolLabel(f.runner?.pool);
      runnersStarted.add(1, { pool });
      const id = f.runner?.runnerId ?? '';
      const from = requestedAt.get(id);
      const to = timestampSeconds(f.startedAt);
      requestedAt.delete(id);
      if (from !== undefined && to !== undefined && to >= from) runnerStart.record(to - from, { pool });
    },
    runnerFailed(f: RunnerFailed) {
      const reason = failureReason(f.reason);
      bootFailures.add(1, { pool: poolLabel(f.runner?.pool), reason });
      cicdSystemErrors.add(1, { 'cicd.system.component': 'agent', 'error.type': reason });
      requestedAt.delete(f.runner?.runnerId ?? '');
    },
    runnerRemoved(f: RunnerRemoved) {
      runnersRemoved.add(1, { pool: poolLabel(f.runner?.pool), reason: removalReason(f.reason) });
      requestedAt.delete(f.runner?.runnerId ?? '');
    },
    runnerExited(f: RunnerExited) {
      const pool = poolLabel(f.runner?.pool);
      const reason = f.oomKilled ? 'oom' : f.exitCode !== 0 ? 'error' : 'completed';
      containerExits.add(1, { pool, reason });
      if (f.cpuSeconds > 0) containerCpu.add(f.cpuSeconds, { pool });
      if (f.peakMemoryBytes > 0n) containerMemory.record(Number(f.peakMemoryBytes), { pool });
    },

    deadLetter(f: DeadLetter) {
      deadLetters.add(1, { stream: f.stream || 'unknown', reason: deadLetterReason(f.reason) });
      cicdSystemErrors.add(1, { 'cicd.system.component': serviceOf(f.consumer), 'error.type': 'dead_letter' });
    },
    githubEvent(subject: string) {
      const [, event = 'unknown', action = 'none'] = subject.split('.');
      githubEvents.add(1, { event, action });
    },
  };
}

export type FactMetrics = ReturnType<typeof factMetrics>;

/** Durable names start with their service (`scheduler-workflow-jobs`, `executor-<host>-create`). */
function serviceOf(durable: string): string {
  return /^(webhook-gateway|scheduler|pool-manager|executor|status-reporter|metrics)-/.exec(durable)?.[1] ?? 'other';
}
