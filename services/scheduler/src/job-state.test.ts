import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyJobEvent, RANK, type JobEvent, type JobState, type Transition } from './job-state.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

/** A job's history as GitHub produces it: some pending events, maybe started, maybe completed. */
const history = fc
  .record({
    pending: fc.constantFrom<'queued' | 'waiting'>('queued', 'waiting'),
    pendingCount: fc.integer({ min: 0, max: 2 }),
    started: fc.boolean(),
    completed: fc.boolean(),
    conclusion: fc.constantFrom('success', 'failure', 'cancelled'),
    runnerId: fc.integer({ min: 1, max: 1000 }),
  })
  .filter((h) => h.pendingCount + Number(h.started) + Number(h.completed) > 0)
  .map((h) => {
    const events: JobEvent[] = [];
    for (let i = 0; i < h.pendingCount; i++) events.push({ status: h.pending, createdAt: at(0) });
    const runner = { runnerId: h.runnerId, runnerName: `rh-small-${h.runnerId}` };
    if (h.started) events.push({ status: 'in_progress', createdAt: at(0), startedAt: at(5), ...runner });
    if (h.completed) {
      // A job cancelled while queued completes with runner id 0 and no runner name.
      const ran = h.started || h.conclusion !== 'cancelled';
      events.push({ status: 'completed', conclusion: h.conclusion, createdAt: at(0), startedAt: at(5), completedAt: at(60), ...(ran ? runner : { runnerId: 0 }) });
    }
    return events;
  });

const fold = (events: readonly JobEvent[]) => {
  let state: JobState | undefined;
  const transitions: Transition[] = [];
  for (const e of events) {
    const r = applyJobEvent(state, e);
    state = r.state;
    transitions.push(...r.transitions);
  }
  return { state: state!, transitions };
};

/** Delivery as it really happens: reordered, some events twice (redelivery or duplicates). */
const delivered = (events: JobEvent[]) =>
  fc
    .array(fc.integer({ min: 0, max: events.length - 1 }), { maxLength: events.length })
    .chain((extra) => fc.shuffledSubarray([...events, ...extra.map((i) => events[i]!)], { minLength: events.length + extra.length }));

describe('job state machine', () => {
  it('converges to the state GitHub last reported, whatever the order and duplication', () => {
    fc.assert(
      fc.property(history.chain((h) => fc.tuple(fc.constant(h), delivered(h))), ([inOrder, arrived]) => {
        expect(fold(arrived).state).toEqual(fold(inOrder).state);
      }),
      { numRuns: 500 },
    );
  });

  it('never moves a job back, and reports each forward transition exactly once', () => {
    fc.assert(
      fc.property(history.chain((h) => delivered(h)), (arrived) => {
        let state: JobState | undefined;
        for (const e of arrived) {
          const before = state ? RANK[state.status] : -1;
          state = applyJobEvent(state, e).state;
          expect(RANK[state.status]).toBeGreaterThanOrEqual(before);
        }
        const { transitions } = fold(arrived);
        expect(new Set(transitions).size).toBe(transitions.length);
      }),
      { numRuns: 500 },
    );
  });

  it('reports every job that started as queued first, even when its queued event came late or never', () => {
    fc.assert(
      fc.property(history.chain((h) => delivered(h)), (arrived) => {
        const { transitions } = fold(arrived);
        const started = transitions.indexOf('started');
        if (started >= 0) expect(transitions.slice(0, started)).toContain('queued');
      }),
      { numRuns: 500 },
    );
    const late = fold([{ status: 'in_progress', runnerId: 7, runnerName: 'rh-small-7', startedAt: at(5) }, { status: 'queued', createdAt: at(0) }]);
    expect(late.transitions).toEqual(['queued', 'started']);
    expect(late.state).toMatchObject({ status: 'in_progress', createdAt: at(0), startedAt: at(5) });
  });

  it('takes a late in_progress after completed only to fill in what was missing', () => {
    const done = applyJobEvent(undefined, { status: 'completed', conclusion: 'success', completedAt: at(60) });
    expect(done.transitions).toEqual(['completed']);
    const late = applyJobEvent(done.state, { status: 'in_progress', runnerId: 7, runnerName: 'rh-small-7', startedAt: at(5) });
    expect(late.transitions).toEqual([]);
    expect(late.state).toMatchObject({ status: 'completed', conclusion: 'success', runnerId: 7, runnerName: 'rh-small-7', startedAt: at(5) });
  });

  it('lets an environment-gated job go queued → waiting → queued, and a cancelled queued job complete directly', () => {
    const { state, transitions } = fold([{ status: 'queued' }, { status: 'waiting' }, { status: 'queued' }]);
    expect(state.status).toBe('queued');
    expect(transitions).toEqual(['queued']);
    const cancelled = fold([{ status: 'queued' }, { status: 'completed', conclusion: 'cancelled', runnerId: 0 }]);
    expect(cancelled.state).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect(cancelled.state.runnerId).toBeUndefined();
    expect(cancelled.transitions).toEqual(['queued', 'completed']);
  });
});
