import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { isJobId, jobTraceContext, jobTraceId, messageSpanAttributes } from './job-trace.js';

describe('job traces', () => {
  it('derives the same valid trace context from a job id in every form', () => {
    const a = trace.getSpanContext(jobTraceContext(900001n))!;
    const b = trace.getSpanContext(jobTraceContext('900001'))!;
    expect(a).toEqual(b);
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.traceId).toBe(jobTraceId(900001));
    expect(trace.getSpanContext(jobTraceContext(900002n))!.traceId).not.toBe(a.traceId);
  });

  it('knows a job id from "none"', () => {
    expect(isJobId(0n)).toBe(false);
    expect(isJobId('')).toBe(false);
    expect(isJobId(undefined)).toBe(false);
    expect(isJobId(12n)).toBe(true);
  });

  it('names the job, pool and runner of job facts, runner facts and webhook events', () => {
    expect(messageSpanAttributes({ job: { jobId: 7n, jobName: 'build', workflowName: 'ci', runId: 3n }, pool: 'small', runnerName: 'rh-small-1' })).toEqual({
      'cicd.pipeline.task.run.id': '7',
      'cicd.pipeline.task.name': 'build',
      'cicd.pipeline.name': 'ci',
      'cicd.pipeline.run.id': '3',
      'runnerhub.pool': 'small',
      'cicd.worker.name': 'rh-small-1',
    });
    expect(messageSpanAttributes({ runner: { runnerId: 'ab', runnerName: 'rh-small-ab', pool: 'small', host: 'nas' }, forJobId: 0n })).toEqual({
      'runnerhub.pool': 'small',
      'cicd.worker.name': 'rh-small-ab',
      'cicd.worker.id': 'ab',
      'runnerhub.host': 'nas',
    });
    expect(messageSpanAttributes({ jobId: 9n, jobName: 'test', runnerName: '' })).toEqual({ 'cicd.pipeline.task.run.id': '9', 'cicd.pipeline.task.name': 'test' });
    expect(messageSpanAttributes(undefined)).toEqual({});
  });
});
