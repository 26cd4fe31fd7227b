import { describe, expect, it } from 'vitest';
import { checkRunName, code, contentHash, duration, externalId, fence, limit, OUTPUT_LIMIT, render, type JobInfo, type ReportDetails } from './render.js';

const job: JobInfo = { jobId: '42', jobName: 'build', workflowName: 'ci', repo: 'acme/app', labels: ['self-hosted', 'gpu'], htmlUrl: 'https://github.com/acme/app/actions/runs/1/job/42' };

describe('render', () => {
  it('explains an unmatched job: its labels, the closest pools with what each lacks, and the fix', () => {
    const r = render({ kind: 'unmatched', job, detail: 'no pool has every label of runs-on: self-hosted, gpu', closestPools: [{ pool: 'small', missing: ['gpu'] }, { pool: 'arm', missing: ['gpu', 'x'] }] });
    expect(r).toMatchObject({ name: 'RunnerHub: no runner for build', status: 'completed', conclusion: 'action_required', details_url: job.htmlUrl });
    expect(r.output.title).toBe('No pool has every label of [self-hosted, gpu]');
    expect(r.output.summary).toContain('`self-hosted`, `gpu`');
    expect(r.output.summary).toContain('| `small` | `gpu` |');
    expect(r.output.summary).toContain('| `arm` | `gpu`, `x` |');
    expect(r.output.summary).toMatch(/change `runs-on`/);
    expect(r.output.summary).toContain('add `gpu` to pool `small`');
  });

  it('says when no pool is defined at all', () => {
    const r = render({ kind: 'unmatched', job, detail: '', closestPools: [] });
    expect(r.output.summary).toContain('No pool is defined yet.');
    expect(r.output.summary).toContain('add a pool whose labels include every label above');
  });

  it('turns a diagnostic report neutral once the job was taken', () => {
    const open = render({ kind: 'stuck', job, pool: 'small', expectedStartSeconds: 60, why: { reason: 'POOL_AT_MAXIMUM', detail: 'pool small runs 2 of 2', closestPools: [], lastError: '' } });
    expect(open).toMatchObject({ status: 'in_progress', name: 'RunnerHub: build waits for a runner' });
    expect(open.conclusion).toBeUndefined();
    expect(open.output.summary).toContain('**pool at maximum**: pool small runs 2 of 2');
    const done = render({ kind: 'stuck', job, pool: 'small', expectedStartSeconds: 60, why: { reason: 'POOL_AT_MAXIMUM', detail: 'x', closestPools: [], lastError: '' }, resolution: { how: 'started', at: '2026-01-01T00:00:00.000Z', runnerName: 'rh-small-1' } });
    expect(done).toMatchObject({ status: 'completed', conclusion: 'neutral' });
    expect(done.output.summary).toContain('**Resolved** at 2026-01-01T00:00:00.000Z: runner `rh-small-1` took the job.');
  });

  it('shows a runner failure with its reason, message and the last log lines in a fence they cannot break', () => {
    const r = render({
      kind: 'runner_failed',
      job,
      pool: 'small',
      failures: 2,
      latest: { runnerName: 'rh-small-9', host: 'nas', reason: 'IMAGE_PULL', message: 'image foo:1 not found', lastLogLines: ['line 1', 'has ``` fence'], exitCode: 0 },
    });
    expect(r).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(r.output.title).toBe('Runner rh-small-9 failed to start: image pull');
    expect(r.output.summary).toContain('(2 runners so far while it waited)');
    expect(r.output.summary).toContain('image foo:1 not found');
    expect(r.output.text).toContain('````text\nline 1\nhas ``` fence\n````');
  });

  it('reports queue time, run time, host and resources of a completed job', () => {
    const r = render({
      kind: 'job_report', job, pool: 'small', conclusion: 'success', runnerName: 'rh-small-1', host: 'nas',
      queuedAt: '2026-01-01T00:00:00Z', startedAt: '2026-01-01T00:00:12Z', completedAt: '2026-01-01T00:03:12Z', cpuSeconds: 41.25, peakMemoryBytes: 512 * 1024 * 1024,
    });
    expect(r).toMatchObject({ status: 'completed', conclusion: 'neutral', name: 'RunnerHub: build report' });
    expect(r.output.title).toBe('build on small: queued 12 s, ran 3 min 0 s');
    for (const s of ['| Queue time | 12 s |', '| Run time | 3 min 0 s |', '| Host | `nas` |', '| Runner | `rh-small-1` |', '| CPU used | 41.3 CPU seconds |', '| Peak memory | 512.0 MiB |']) {
      expect(r.output.summary).toContain(s);
    }
  });

  it('keeps every output within GitHub\'s limits, with a note, however long the input', () => {
    const huge: ReportDetails = {
      kind: 'runner_failed', job: { ...job, labels: Array.from({ length: 5000 }, (_, i) => `label-${i}`) }, pool: 'p', failures: 1,
      latest: { runnerName: 'r', host: 'h', reason: 'CONTAINER_START', message: 'm'.repeat(100_000), lastLogLines: Array.from({ length: 500 }, () => 'x'.repeat(2_000)), exitCode: 1 },
    };
    const r = render(huge);
    expect(r.output.summary.length).toBeLessThanOrEqual(OUTPUT_LIMIT);
    expect(r.output.text!.length).toBeLessThanOrEqual(OUTPUT_LIMIT);
    expect(r.output.text).toMatch(/characters not shown \(GitHub allows 65535 here\)/);
    // The fence left open by the cut is closed before the note.
    expect(r.output.text!.split('\n').filter((l) => l.startsWith('```')).length % 2).toBe(0);
    const unmatched = render({ kind: 'unmatched', job: huge.job, detail: 'd', closestPools: Array.from({ length: 3000 }, (_, i) => ({ pool: `p${i}`, missing: ['a', 'b'] })) });
    expect(unmatched.output.summary.length).toBeLessThanOrEqual(OUTPUT_LIMIT);
    expect(unmatched.output.title.length).toBeLessThanOrEqual(255);
    expect(checkRunName('stuck', 'j'.repeat(300)).length).toBeLessThanOrEqual(100);
  });

  it('gives equal content the same hash, and any visible change a new one', () => {
    const d: ReportDetails = { kind: 'unmatched', job, detail: 'x', closestPools: [] };
    expect(contentHash(render(d))).toBe(contentHash(render(structuredClone(d))));
    expect(contentHash(render({ ...d, detail: 'y' }))).not.toBe(contentHash(render(d)));
  });
});

describe('formatting helpers', () => {
  it('limit leaves short text alone and cuts long text at a line end', () => {
    expect(limit('short', 100)).toBe('short');
    const cut = limit(Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n'), 300);
    expect(cut.length).toBeLessThanOrEqual(300);
    expect(cut).toMatch(/line \d+\n\n\*… \d+ characters not shown/);
  });

  it('code and fence survive backticks', () => {
    expect(code('plain')).toBe('`plain`');
    expect(code('a`b')).toBe('`` a`b ``');
    expect(fence('no ticks')).toBe('```text\nno ticks\n```');
  });

  it('names durations and external ids', () => {
    expect(duration(59_400)).toBe('59 s');
    expect(duration(3_725_000)).toBe('1 h 2 min');
    expect(externalId('42', 'runner_failed')).toBe('runnerhub:42:runner_failed');
  });
});
