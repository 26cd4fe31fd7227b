import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canServe, choosePool, closestPools, isGitHubHostedOnly, type PoolLabels } from './matching.js';

const label = fc.constantFrom('self-hosted', 'linux', 'x64', 'arm64', 'gpu', 'docker', 'large', 'small');
const labels = fc.uniqueArray(label, { minLength: 1, maxLength: 5 });
const recase = (l: string) => fc.boolean().map((up) => (up ? l.toUpperCase() : l));

const PRIVATE = { publicRepository: false, forkPullRequest: false };

describe('label matching', () => {
  it('follows the subset rule, case-insensitively', () => {
    fc.assert(
      fc.property(labels, labels, (job, runner) => {
        const subset = job.every((l) => runner.includes(l));
        expect(canServe(job, runner)).toBe(subset);
      }),
    );
    fc.assert(
      fc.property(labels.chain((ls) => fc.tuple(fc.constant(ls), fc.tuple(...ls.map(recase)))), ([ls, cased]) => {
        expect(canServe(cased, ls)).toBe(true);
        expect(canServe(ls, cased)).toBe(true);
      }),
    );
  });

  it('only ever picks a pool that can serve the job, and picks one whenever any can', () => {
    const pools = fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z]{1,6}$/), labels, priority: fc.integer({ min: 0, max: 3 }) }), {
      selector: (p) => p.name,
      maxLength: 6,
    });
    fc.assert(
      fc.property(labels, pools, (job, ps: PoolLabels[]) => {
        const m = choosePool(job, ps, PRIVATE);
        const servable = ps.filter((p) => canServe(job, p.labels));
        if (servable.length === 0) expect(m.kind).not.toBe('matched');
        else {
          expect(m.kind).toBe('matched');
          const chosen = ps.find((p) => m.kind === 'matched' && p.name === m.pool)!;
          expect(canServe(job, chosen.labels)).toBe(true);
          expect(chosen.priority).toBe(Math.max(...servable.map((p) => p.priority)));
        }
      }),
    );
  });

  it('prefers priority, then the most specific pool, then the least loaded', () => {
    const small: PoolLabels = { name: 'small', labels: ['self-hosted', 'linux'], priority: 0 };
    const gpu: PoolLabels = { name: 'gpu', labels: ['self-hosted', 'linux', 'gpu'], priority: 0 };
    const small2: PoolLabels = { name: 'small2', labels: ['self-hosted', 'linux'], priority: 0 };
    expect(choosePool(['self-hosted', 'linux'], [gpu, small], PRIVATE)).toEqual({ kind: 'matched', pool: 'small' });
    expect(choosePool(['self-hosted', 'linux'], [small, { ...gpu, priority: 1 }], PRIVATE)).toEqual({ kind: 'matched', pool: 'gpu' });
    expect(choosePool(['self-hosted', 'linux'], [small, small2], PRIVATE, { small: 3, small2: 1 })).toEqual({ kind: 'matched', pool: 'small2' });
  });

  it('says which labels the closest pools lack, and leaves GitHub-hosted jobs alone', () => {
    const pools: PoolLabels[] = [
      { name: 'small', labels: ['self-hosted', 'linux', 'x64'], priority: 0 },
      { name: 'gpu', labels: ['self-hosted', 'linux', 'x64', 'gpu'], priority: 0 },
    ];
    expect(choosePool(['self-hosted', 'gpu', 'arm64'], pools, PRIVATE)).toEqual({
      kind: 'unmatched',
      closest: [{ pool: 'gpu', missing: ['arm64'] }, { pool: 'small', missing: ['gpu', 'arm64'] }],
    });
    expect(choosePool(['ubuntu-latest'], pools, PRIVATE)).toMatchObject({ kind: 'not_ours' });
    expect(isGitHubHostedOnly(['self-hosted', 'ubuntu-22.04'])).toBe(false);
    expect(closestPools(['LINUX'], pools, 1)).toEqual([{ pool: 'gpu', missing: [] }]);
  });

  it('never gives a public repository\'s job, or a fork\'s pull request, to a pool that does not allow it', () => {
    const pools = fc.uniqueArray(
      fc.record({ name: fc.stringMatching(/^[a-z]{1,6}$/), labels, priority: fc.integer({ min: 0, max: 3 }), allowPublicRepositories: fc.boolean(), allowForkPullRequests: fc.boolean() }),
      { selector: (p) => p.name, maxLength: 6 },
    );
    const origins = fc.record({ publicRepository: fc.boolean(), forkPullRequest: fc.boolean() });
    fc.assert(
      fc.property(labels, pools, origins, (job, ps: PoolLabels[], origin) => {
        const m = choosePool(job, ps, origin);
        const serving = ps.filter((p) => canServe(job, p.labels));
        const allowed = serving.filter((p) => (!origin.publicRepository || p.allowPublicRepositories) && (!origin.forkPullRequest || (p.allowPublicRepositories && p.allowForkPullRequests)));
        if (m.kind === 'matched') expect(allowed.map((p) => p.name)).toContain(m.pool);
        else if (allowed.length > 0) expect.fail(`${m.kind} although ${allowed.map((p) => p.name).join(', ')} may run it`);
        if (m.kind === 'refused') expect(m.pools.sort()).toEqual(serving.map((p) => p.name).sort());
      }),
    );
  });

  it('names the reason and the pools of a refusal', () => {
    const small: PoolLabels = { name: 'small', labels: ['self-hosted', 'linux'], priority: 0 };
    const open: PoolLabels = { name: 'open', labels: ['self-hosted', 'linux'], priority: 0, allowPublicRepositories: true };
    expect(choosePool(['self-hosted'], [small], { publicRepository: true, forkPullRequest: false })).toEqual({ kind: 'refused', reason: 'public_repository', pools: ['small'] });
    expect(choosePool(['self-hosted'], [small, open], { publicRepository: true, forkPullRequest: false })).toEqual({ kind: 'matched', pool: 'open' });
    expect(choosePool(['self-hosted'], [small, open], { publicRepository: true, forkPullRequest: true })).toEqual({ kind: 'refused', reason: 'fork_pull_request', pools: ['small', 'open'] });
    expect(choosePool(['self-hosted'], [{ ...open, allowForkPullRequests: true }], { publicRepository: true, forkPullRequest: true })).toEqual({ kind: 'matched', pool: 'open' });
  });
});
