import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canServe, choosePool, closestPools, isGitHubHostedOnly, type PoolLabels } from './matching.js';

const label = fc.constantFrom('self-hosted', 'linux', 'x64', 'arm64', 'gpu', 'docker', 'large', 'small');
const labels = fc.uniqueArray(label, { minLength: 1, maxLength: 5 });
const recase = (l: string) => fc.boolean().map((up) => (up ? l.toUpperCase() : l));

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
        const m = choosePool(job, ps);
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
    expect(choosePool(['self-hosted', 'linux'], [gpu, small])).toEqual({ kind: 'matched', pool: 'small' });
    expect(choosePool(['self-hosted', 'linux'], [small, { ...gpu, priority: 1 }])).toEqual({ kind: 'matched', pool: 'gpu' });
    expect(choosePool(['self-hosted', 'linux'], [small, small2], { small: 3, small2: 1 })).toEqual({ kind: 'matched', pool: 'small2' });
  });

  it('says which labels the closest pools lack, and leaves GitHub-hosted jobs alone', () => {
    const pools: PoolLabels[] = [
      { name: 'small', labels: ['self-hosted', 'linux', 'x64'], priority: 0 },
      { name: 'gpu', labels: ['self-hosted', 'linux', 'x64', 'gpu'], priority: 0 },
    ];
    expect(choosePool(['self-hosted', 'gpu', 'arm64'], pools)).toEqual({
      kind: 'unmatched',
      closest: [{ pool: 'gpu', missing: ['arm64'] }, { pool: 'small', missing: ['gpu', 'arm64'] }],
    });
    expect(choosePool(['ubuntu-latest'], pools)).toMatchObject({ kind: 'not_ours' });
    expect(isGitHubHostedOnly(['self-hosted', 'ubuntu-22.04'])).toBe(false);
    expect(closestPools(['LINUX'], pools, 1)).toEqual([{ pool: 'gpu', missing: [] }]);
  });
});
