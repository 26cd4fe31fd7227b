import { describe, expect, it } from 'vitest';
import { percentile, queueTimes, render, runnersOfRun, summarize, type DemoJob, type DemoRunner } from './summary.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, s)).toISOString();
const job = (id: number, kind: DemoJob['kind'], patch: Partial<DemoJob> = {}): DemoJob => ({ id, kind, status: 'completed', conclusion: 'success', runnerName: `rh-${kind}-${id}`, createdAt: at(10), startedAt: at(11), ...patch });
const runner = (name: string, requested: number, state = 'finished'): DemoRunner => ({ name, pool: name.split('-')[1]!, state, requestedAt: at(requested), failure: null });

describe('demo summary', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([7], 95)).toBe(7);
  });

  it('counts a job as a warm start only when its runner was asked for before the job was queued', () => {
    const jobs = [job(1, 'small'), job(2, 'large', { startedAt: at(15) })];
    const { warm, cold } = queueTimes(jobs, [runner('rh-small-1', 0), runner('rh-large-2', 11)]);
    expect(warm).toEqual({ count: 1, p50Ms: 1000, p95Ms: 1000 });
    expect(cold).toEqual({ count: 1, p50Ms: 5000, p95Ms: 5000 });
  });

  it('keeps the warm runner that took a job though it was asked for long before the run began, so its job is a warm start', () => {
    const started = Date.parse(at(0)) + 120_000; // the workload began two minutes after the warm runner was asked for
    const jobs = [job(1, 'small', { createdAt: at(130), startedAt: at(130) }), job(2, 'small', { runnerName: 'rh-small-2', createdAt: at(131), startedAt: at(140) })];
    const all = [runner('rh-small-1', 0), runner('rh-small-2', 132), runner('rh-small-0', 1), runner('rh-large-old', 2)];
    const mine = runnersOfRun(all, jobs, started);
    expect(mine.map((r) => r.name)).toEqual(['rh-small-1', 'rh-small-2']);
    expect(queueTimes(jobs, mine).warm.count).toBe(1);
  });

  it('passes only when every job that should run succeeded and nothing was left behind', () => {
    const base = { intake: 'webhook' as const, jobs: [job(1, 'small'), job(2, 'unmatched', { status: 'queued', conclusion: null, runnerName: null, startedAt: null })], runners: [runner('rh-small-1', 0), runner('rh-small-9', 12, 'idle')], containers: ['rh-small-9'], volumes: [], githubRunners: ['rh-small-9'], unmatched: { jobId: 2, reason: 'no_pool_matches', detail: '', checkRun: true }, broken: null };
    expect(summarize(base)).toMatchObject({ ok: true, problems: [], jobs: { total: 2, shouldRun: 1, succeeded: 1 }, runners: { live: 1 } });
    const leftover = summarize({ ...base, containers: ['rh-small-9', 'rh-small-1'], githubRunners: ['rh-small-1'] });
    expect(leftover.ok).toBe(false);
    expect(leftover.leftBehind).toEqual({ containers: ['rh-small-1'], volumes: [], githubRunners: ['rh-small-1'] });
    const leakedVolume = summarize({ ...base, volumes: ['0f3c9a'] });
    expect(leakedVolume).toMatchObject({ ok: false, problems: ['runner volumes left behind: 0f3c9a'], leftBehind: { volumes: ['0f3c9a'] } });
    expect(render(summarize({ ...base, intake: 'scaleset' }), {})).toContain('intake                 runner scale sets (long poll, no webhook sent)');
    expect(summarize(base).intake).toBe('webhook');
    expect(summarize({ ...base, jobs: [job(1, 'small', { conclusion: 'failure' })] }).problems).toEqual(['1 of 1 jobs that should run did not complete successfully']);
  });
});
