import { HostRefusalReason } from '@runnerhub/contracts';
import { describe, expect, it } from 'vitest';
import type { PoolStatusView } from './pool-status.js';
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

  it('names what holds a matched job back, in the order a person would fix it', () => {
    const now = new Date('2026-11-24T10:05:00Z');
    const status = (patch: Partial<PoolStatusView> = {}, runners: Partial<PoolStatusView['runners']> = {}): PoolStatusView => ({
      runners: { requested: 0, registered: 0, starting: 0, idle: 0, busy: 0, ...runners },
      desired: 1,
      maxRunners: 2,
      drained: false,
      lastError: '',
      backoffUntil: undefined,
      takenAt: now,
      ...patch,
    });
    const why = (ctx: Parameters<typeof explain>[2]) => explain(base, pools, { now, pool: { drained: false, maxRunners: 2 }, ...ctx });
    expect(why({ pool: { drained: true, maxRunners: 2 }, status: status() })).toMatchObject({ reason: 'pool_drained', detail: expect.stringContaining('/api/pools/small/drain') });
    expect(why({ capHit: { scope: 'repository', name: 'acme/app', cap: 4 }, status: status() })).toMatchObject({ reason: 'repo_cap_reached', detail: expect.stringContaining('acme/app already has 4 jobs') });
    expect(why({ capHit: { scope: 'organization', name: 'acme', cap: 1 } }).reason).toBe('org_cap_reached');
    expect(why({ budget: { ok: false, retryAfterMs: 60_000 }, status: status() })).toMatchObject({ reason: 'github_rate_budget_exhausted', detail: expect.stringContaining('2026-11-24T10:06:00.000Z') });
    expect(why({ status: status({ backoffUntil: new Date('2026-11-24T10:05:30Z'), lastError: 'image missing' }) })).toMatchObject({ reason: 'provisioning_failing', lastError: 'image missing' });
    expect(why({ status: status({}, { registered: 1 }) }).reason).toBe('runner_starting');
    expect(why({ status: status({}, { idle: 2 }) })).toMatchObject({ reason: 'runner_idle_unassigned', detail: expect.stringContaining('2 runners of pool small are up') });
    expect(why({ status: status({ lastError: 'no host has room: nas: at its maximum of 4 containers' }, { busy: 2 }) }).reason).toBe('pool_at_maximum');
    expect(why({ status: status({ lastError: 'no host has room: nas: at its maximum of 4 containers' }, { busy: 1 }) })).toMatchObject({ reason: 'host_budget_exhausted', lastError: expect.stringContaining('nas') });
    expect(why({ status: status({ lastError: 'JIT registration failed: 500' }) }).reason).toBe('provisioning_failing');
    expect(why({ status: status() }).reason).toBe('waiting_for_runner');
    // No snapshot from the pool-manager: nothing more to say than that it waits.
    expect(why({}).reason).toBe('waiting_for_runner');
  });

  it('names the host and the capability when no host can ever run the pool, before caps and budgets', () => {
    const now = new Date('2026-11-24T10:05:00Z');
    const status = (hostRefusals: NonNullable<PoolStatusView['hostRefusals']>): PoolStatusView => ({
      runners: { requested: 0, registered: 0, starting: 0, idle: 0, busy: 0 },
      desired: 1,
      maxRunners: 2,
      drained: false,
      lastError: "no host can run this pool's runners: nas1: is X64, the pool needs ARM64",
      backoffUntil: undefined,
      hostRefusals,
      takenAt: now,
    });
    const arch = { host: 'nas1', reason: HostRefusalReason.ARCHITECTURE, needed: 'ARM64', has: 'X64' };
    const sysbox = { host: 'nas2', reason: HostRefusalReason.RUNTIME, needed: 'sysbox-runc', has: 'io.containerd.runc.v2, runc' };
    const why = (refusals: NonNullable<PoolStatusView['hostRefusals']>) => explain(base, pools, { now, status: status(refusals), capHit: { scope: 'repository', name: 'acme/app', cap: 4 } });
    expect(why([arch])).toMatchObject({ reason: 'no_capable_host', detail: expect.stringContaining("no Docker host can run pool small's runners: no host with ARM64 (nas1 is X64)") });
    expect(why([arch, { ...arch, host: 'nas3' }]).detail).toContain('no host with ARM64 (nas1 is X64, nas3 is X64)');
    expect(why([sysbox]).detail).toContain('host nas2 lacks sysbox-runc (has io.containerd.runc.v2, runc)');
    expect(why([arch, sysbox]).detail).toContain('no host with ARM64 (nas1 is X64); host nas2 lacks sysbox-runc');
    // A host of the right kind that is only full, or out of heartbeats, is a wait, not a missing capability.
    expect(why([arch, { host: 'pi', reason: HostRefusalReason.NO_CPU_ROOM, needed: '1 CPUs', has: '0.00 free' }]).reason).toBe('repo_cap_reached');
  });
});
