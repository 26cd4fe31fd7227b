import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  create,
  DeadLetterSchema,
  DemandSnapshotSchema,
  JobCompletedSchema,
  JobStartedSchema,
  PoolSnapshotSchema,
  RunnerExitedSchema,
  RunnerFailedSchema,
  RunnerFailureReason,
  RunnerRequestedSchema,
  RunnerStartedSchema,
  RunnerState,
  timestampFromMs,
  WorkflowJobConclusion,
} from '@runnerhub/contracts';
import { startTelemetry, type Telemetry } from '@runnerhub/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleSum, sampleValue, type Sample } from '@runnerhub/testing';
import { factMetrics, type FactMetrics } from './facts.js';
import { levelMetrics, type LevelMetrics } from './levels.js';

// The instruments through the service's real exporter: names, units, labels and values as
// Prometheus scrapes them.

let telemetry: Telemetry;
let server: Server;
let facts: FactMetrics;
let levels: LevelMetrics;
const t0 = Date.parse('2026-12-01T10:00:00Z');
const ts = (offsetS: number) => timestampFromMs(t0 + offsetS * 1000);

const scrape = async (): Promise<Sample[]> => {
  const { port } = server.address() as AddressInfo;
  return parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
};

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: 'metrics-test' });
  facts = factMetrics(telemetry.meter, { repositoryLabels: false, maxPipelineNames: 2 });
  levels = levelMetrics(telemetry.meter, { onPool: (pool) => facts.knowPool(pool) });
  server = createServer((req, res) => telemetry.serveMetrics(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await telemetry.shutdown();
});

const job = (id: number, workflowName = 'ci') => ({ jobId: BigInt(id), workflowName, jobName: 'build', repository: { owner: 'acme', name: 'app', fullName: 'acme/app' } });

describe('job facts', () => {
  it('count jobs by pool and conclusion, and record queue and run time in seconds', async () => {
    facts.knowPool('small');
    facts.jobStarted(create(JobStartedSchema, { job: job(1), pool: 'small', queuedAt: ts(0), startedAt: ts(12) }));
    facts.jobStarted(create(JobStartedSchema, { job: job(2), pool: 'small', queuedAt: ts(0), startedAt: ts(40) }));
    facts.jobCompleted(create(JobCompletedSchema, { job: job(1), pool: 'small', conclusion: WorkflowJobConclusion.SUCCESS, queuedAt: ts(0), startedAt: ts(12), completedAt: ts(72) }));
    facts.jobCompleted(create(JobCompletedSchema, { job: job(2), pool: 'small', conclusion: WorkflowJobConclusion.FAILURE, queuedAt: ts(0), startedAt: ts(40), completedAt: ts(50) }));
    // Cancelled while queued: never started, so no queue or run time of its own.
    facts.jobCompleted(create(JobCompletedSchema, { job: job(3, 'nightly'), pool: 'small', conclusion: WorkflowJobConclusion.CANCELLED, queuedAt: ts(0), completedAt: ts(30) }));
    facts.jobCompleted(create(JobCompletedSchema, { job: job(4, 'release'), pool: 'small', conclusion: WorkflowJobConclusion.SUCCESS, queuedAt: ts(0), startedAt: ts(1), completedAt: ts(2) }));
    const s = await scrape();

    expect(sampleValue(s, 'runnerhub_jobs_started_total', { pool: 'small' })).toBe(2);
    expect(sampleValue(s, 'runnerhub_jobs_completed_total', { pool: 'small', conclusion: 'success' })).toBe(2);
    expect(sampleValue(s, 'runnerhub_jobs_completed_total', { pool: 'small', conclusion: 'failure' })).toBe(1);
    expect(sampleValue(s, 'runnerhub_jobs_completed_total', { pool: 'small', conclusion: 'cancelled' })).toBe(1);
    expect(sampleValue(s, 'runnerhub_jobs_completed_total', { pool: 'small', conclusion: 'timed_out' })).toBe(0);
    expect(sampleValue(s, 'runnerhub_job_queue_duration_seconds_count', { pool: 'small' })).toBe(2);
    expect(sampleValue(s, 'runnerhub_job_queue_duration_seconds_sum', { pool: 'small' })).toBe(52);
    expect(sampleValue(s, 'runnerhub_job_queue_duration_seconds_bucket', { pool: 'small', le: '15' })).toBe(1);
    expect(sampleSum(s, 'runnerhub_job_run_duration_seconds_count', { pool: 'small' })).toBe(3);
    expect(sampleValue(s, 'runnerhub_job_run_duration_seconds_sum', { pool: 'small', conclusion: 'failure' })).toBe(10);
    // No repository label unless asked for.
    expect(s.filter((x) => x.name.startsWith('runnerhub_job')).some((x) => 'repository' in x.labels)).toBe(false);
  });

  it('record the OpenTelemetry CI/CD duration per state and result, with workflow names capped', async () => {
    const s = await scrape();
    const pending = { cicd_pipeline_name: 'ci', cicd_pipeline_run_state: 'pending' };
    expect(sampleSum(s, 'cicd_pipeline_run_duration_count', pending)).toBe(2);
    expect(sampleSum(s, 'cicd_pipeline_run_duration_sum', pending)).toBe(52);
    expect(sampleValue(s, 'cicd_pipeline_run_duration_count', { cicd_pipeline_name: 'ci', cicd_pipeline_run_state: 'executing', cicd_pipeline_result: 'failure' })).toBe(1);
    // The cancelled job was pending until it ended.
    expect(sampleValue(s, 'cicd_pipeline_run_duration_sum', { cicd_pipeline_name: 'nightly', cicd_pipeline_run_state: 'pending', cicd_pipeline_result: 'cancellation' })).toBe(30);
    // maxPipelineNames 2: the third workflow name is counted as `other`.
    expect(sampleSum(s, 'cicd_pipeline_run_duration_count', { cicd_pipeline_name: 'other' })).toBe(2);
    expect(sampleValue(s, 'cicd_pipeline_run_errors_total', { cicd_pipeline_name: 'ci', error_type: 'failure' })).toBe(1);
    expect(sampleValue(s, 'cicd_pipeline_run_errors_total', { cicd_pipeline_name: 'nightly', error_type: 'cancellation' })).toBe(1);
  });
});

describe('runner facts', () => {
  it('time a runner from requested to started, count boot failures and container exits by reason', async () => {
    const runner = (id: string) => ({ runnerId: id, runnerName: `rh-small-${id}`, pool: 'small', host: 'nas' });
    facts.runnerRequested(create(RunnerRequestedSchema, { runner: runner('a'), requestedAt: ts(0) }));
    facts.runnerStarted(create(RunnerStartedSchema, { runner: runner('a'), startedAt: ts(4) }));
    facts.runnerRequested(create(RunnerRequestedSchema, { runner: runner('b'), requestedAt: ts(0) }));
    facts.runnerFailed(create(RunnerFailedSchema, { runner: runner('b'), reason: RunnerFailureReason.IMAGE_PULL, failedAt: ts(3) }));
    facts.runnerExited(create(RunnerExitedSchema, { runner: runner('a'), exitCode: 0, cpuSeconds: 1.5, peakMemoryBytes: 100n * 1024n * 1024n }));
    facts.runnerExited(create(RunnerExitedSchema, { runner: runner('c'), exitCode: 137, oomKilled: true }));
    facts.runnerExited(create(RunnerExitedSchema, { runner: runner('d'), exitCode: 1 }));
    const s = await scrape();
    expect(sampleValue(s, 'runnerhub_runner_start_duration_seconds_count', { pool: 'small' })).toBe(1);
    expect(sampleValue(s, 'runnerhub_runner_start_duration_seconds_sum', { pool: 'small' })).toBe(4);
    expect(sampleValue(s, 'runnerhub_runner_boot_failures_total', { pool: 'small', reason: 'image_pull' })).toBe(1);
    expect(sampleValue(s, 'runnerhub_runner_boot_failures_total', { pool: 'small', reason: 'boot_timeout' })).toBe(0);
    expect(sampleValue(s, 'cicd_system_errors_total', { cicd_system_component: 'agent', error_type: 'image_pull' })).toBe(1);
    for (const reason of ['completed', 'oom', 'error']) expect(sampleValue(s, 'runnerhub_container_exits_total', { pool: 'small', reason })).toBe(1);
    expect(sampleValue(s, 'runnerhub_container_cpu_seconds_total', { pool: 'small' })).toBe(1.5);
    expect(sampleValue(s, 'runnerhub_container_peak_memory_bytes_bucket', { pool: 'small', le: String(128 * 1024 * 1024) })).toBe(1);
  });

  it('count dead letters by stream and kind of reason', async () => {
    facts.knowStream('JOBS');
    facts.deadLetter(create(DeadLetterSchema, { stream: 'JOBS', consumer: 'pool-manager-job-starts', reason: 'undecodable: bad wire type' }));
    facts.deadLetter(create(DeadLetterSchema, { stream: 'JOBS', consumer: 'pool-manager-job-starts', reason: 'failed 5 of 5 deliveries: boom' }));
    const s = await scrape();
    expect(sampleValue(s, 'runnerhub_dead_letters_total', { stream: 'JOBS', reason: 'undecodable' })).toBe(1);
    expect(sampleValue(s, 'runnerhub_dead_letters_total', { stream: 'JOBS', reason: 'no_outcome' })).toBe(0);
    expect(sampleValue(s, 'runnerhub_dead_letters_total', { stream: 'JOBS', reason: 'retries_exhausted' })).toBe(1);
    expect(sampleValue(s, 'cicd_system_errors_total', { cicd_system_component: 'pool-manager', error_type: 'dead_letter' })).toBe(2);
  });
});

describe('snapshot levels', () => {
  it('report the latest snapshot only, zeroes for what it leaves out, and never go back to an older one', async () => {
    levels.supply(
      create(PoolSnapshotSchema, {
        takenAt: ts(100),
        pools: [{ pool: 'small', desired: 3, maxRunners: 4, runners: [{ state: RunnerState.IDLE, count: 1 }, { state: RunnerState.BUSY, count: 2 }] }],
        hosts: [{ host: 'nas', cpus: 4, reservedCpus: 1, usedCpus: 1.5, memoryBytes: 8n << 30n, reservedMemoryBytes: 1n << 30n, usedMemoryBytes: 3n << 30n, runningContainers: 3, maxContainers: 8, healthy: true }],
      }),
    );
    levels.supply(create(PoolSnapshotSchema, { takenAt: ts(90), pools: [{ pool: 'small', desired: 9 }] }));
    levels.demand(create(DemandSnapshotSchema, { takenAt: ts(100), pools: [{ pool: 'small', pending: { normal: 2, high: 1 }, running: 2, oldestPendingAt: timestampFromMs(Date.now() - 90_000) }] }));
    let s = await scrape();
    expect(sampleValue(s, 'runnerhub_pool_desired_runners', { pool: 'small' })).toBe(3);
    expect(sampleValue(s, 'runnerhub_pool_runners', { pool: 'small', state: 'busy' })).toBe(2);
    expect(sampleValue(s, 'runnerhub_pool_runners', { pool: 'small', state: 'starting' })).toBe(0);
    expect(sampleValue(s, 'cicd_worker_count', { runnerhub_pool: 'small', cicd_worker_state: 'available' })).toBe(1);
    expect(sampleValue(s, 'runnerhub_pool_pending_jobs', { pool: 'small', priority: 'normal' })).toBe(2);
    expect(sampleValue(s, 'runnerhub_pool_pending_jobs', { pool: 'small', priority: 'critical' })).toBe(0);
    expect(sampleValue(s, 'cicd_pipeline_run_active', { runnerhub_pool: 'small', cicd_pipeline_run_state: 'pending' })).toBe(3);
    expect(sampleValue(s, 'runnerhub_pool_oldest_pending_job_age_seconds', { pool: 'small' })).toBeGreaterThanOrEqual(89);
    expect(sampleValue(s, 'runnerhub_host_memory_free_bytes', { host: 'nas' })).toBe(4 * 2 ** 30);
    expect(sampleValue(s, 'runnerhub_host_cpu_free_cores', { host: 'nas' })).toBe(1.5);

    // Demand gone: the pool reads 0 pending rather than its last value.
    levels.demand(create(DemandSnapshotSchema, { takenAt: ts(105), pools: [] }));
    s = await scrape();
    expect(sampleValue(s, 'runnerhub_pool_pending_jobs', { pool: 'small', priority: 'normal' })).toBe(0);
    expect(sampleValue(s, 'runnerhub_pool_oldest_pending_job_age_seconds', { pool: 'small' })).toBe(0);
  });
});
