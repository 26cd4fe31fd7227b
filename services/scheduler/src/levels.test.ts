import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demandLevels, type LevelJob } from './levels.js';
import { NO_RULES, PRIORITY_ORDER, type Caps } from './rules.js';

const job = fc.record({
  jobId: fc.uuid(),
  pool: fc.constantFrom('small', 'large'),
  repository: fc.constantFrom('acme/app', 'acme/api', 'other/site'),
  priority: fc.constantFrom(...PRIORITY_ORDER),
  running: fc.boolean(),
  createdAt: fc.integer({ min: 0, max: 1000 }),
});
const jobs = fc.uniqueArray(job, { selector: (j) => j.jobId, maxLength: 40 }).map((js): LevelJob[] => js.map((j) => ({ ...j, organization: j.repository.split('/')[0]! })));
const repoCaps = (cap: number): Caps => ({ ...NO_RULES.caps, perRepository: cap });
const rank = (j: LevelJob) => PRIORITY_ORDER.indexOf(j.priority);

describe('demand levels with caps', () => {
  it('counts every job once: running, pending by class, or over its cap', () => {
    fc.assert(
      fc.property(jobs, fc.integer({ min: 0, max: 5 }), (js, cap) => {
        const { pools, overCap } = demandLevels(js, repoCaps(cap));
        let pending = 0;
        let running = 0;
        let over = 0;
        for (const l of pools.values()) {
          pending += PRIORITY_ORDER.reduce((n, w) => n + l.pending[w], 0);
          running += l.running;
          over += l.overCap;
        }
        expect(running).toBe(js.filter((j) => j.running).length);
        expect(pending + over).toBe(js.filter((j) => !j.running).length);
        expect(overCap.size).toBe(over);
        if (cap === 0) expect(over).toBe(0);
      }),
    );
  });

  it('asks for no runner beyond a cap except for critical jobs, and wastes no slot', () => {
    fc.assert(
      fc.property(jobs, fc.integer({ min: 1, max: 4 }), (js, cap) => {
        const { overCap } = demandLevels(js, repoCaps(cap));
        for (const repo of new Set(js.map((j) => j.repository))) {
          const mine = js.filter((j) => j.repository === repo);
          const active = mine.filter((j) => j.running || !overCap.has(j.jobId));
          const critical = mine.filter((j) => !j.running && j.priority === 'critical').length;
          const running = mine.filter((j) => j.running).length;
          expect(active.length).toBeLessThanOrEqual(Math.max(cap, running + critical) + (running > cap ? 0 : critical));
          // A job held back means the cap is full.
          if (mine.some((j) => overCap.has(j.jobId))) expect(active.length).toBeGreaterThanOrEqual(cap);
          // Never a lower class (or a newer job of the same class) ahead of a held-back one.
          for (const held of mine.filter((j) => overCap.has(j.jobId))) {
            expect(held.priority).not.toBe('critical');
            for (const other of active.filter((j) => !j.running && j.priority !== 'critical')) {
              expect(rank(other) < rank(held) || (rank(other) === rank(held) && other.createdAt <= held.createdAt)).toBe(true);
            }
          }
        }
      }),
    );
  });

  it('applies organization caps across repositories and names the cap that holds a job back', () => {
    const at = (jobId: string, repository: string, running = false, createdAt = 0): LevelJob => ({ jobId, pool: 'p', repository, organization: repository.split('/')[0]!, priority: 'normal', running, createdAt });
    const caps: Caps = { perRepository: 0, perOrganization: 0, repositories: { 'acme/app': 1 }, organizations: { acme: 2 } };
    const { pools, overCap } = demandLevels([at('1', 'acme/app', true), at('2', 'acme/app', false, 1), at('3', 'acme/api', false, 2), at('4', 'acme/api', false, 3), at('5', 'other/x', false, 4)], caps);
    expect(overCap.get('2')).toEqual({ scope: 'repository', name: 'acme/app', cap: 1 });
    expect(overCap.has('3')).toBe(false);
    expect(overCap.get('4')).toEqual({ scope: 'organization', name: 'acme', cap: 2 });
    expect(pools.get('p')).toMatchObject({ running: 1, overCap: 2, pending: { normal: 2 } });
  });
});
