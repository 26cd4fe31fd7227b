import { describe, expect, it } from 'vitest';
import { explain, type WhyJob } from './why.js';

const base: WhyJob = { status: 'queued', conclusion: null, match: 'matched', pool: 'small', labels: ['self-hosted', 'docker'], runnerName: null, createdAt: new Date('2026-11-24T10:00:00Z'), startedAt: null, completedAt: null };
const pools = [
  { name: 'small', labels: ['self-hosted', 'linux', 'x64', 'docker'], priority: 0 },
  { name: 'gpu', labels: ['self-hosted', 'linux', 'x64', 'gpu'], priority: 0 },
];

describe('why is my job still queued', () => {
  it('names the labels the closest pool lacks for a job no pool serves', () => {
    const a = explain({ ...base, match: 'unmatched', pool: null, labels: ['self-hosted', 'gpu', 'arm64'] }, pools);
    expect(a.reason).toBe('no_pool_matches');
    expect(a.closestPools[0]).toEqual({ pool: 'gpu', missing: ['arm64'] });
    expect(a.detail).toContain('gpu, lacks arm64');
    expect(explain({ ...base, match: 'unmatched' }, []).detail).toMatch(/no pool is defined/);
  });

  it('tells a running, finished or GitHub-hosted job apart from a waiting one', () => {
    expect(explain({ ...base, status: 'in_progress', runnerName: 'rh-small-1' }, pools)).toMatchObject({ reason: 'running', detail: expect.stringContaining('rh-small-1') });
    expect(explain({ ...base, status: 'completed', conclusion: 'success' }, pools).reason).toBe('completed');
    expect(explain({ ...base, match: 'not_ours', labels: ['ubuntu-latest'] }, pools).reason).toBe('not_ours');
    expect(explain(base, pools)).toMatchObject({ reason: 'waiting_for_runner', since: '2026-11-24T10:00:00.000Z' });
  });
});
