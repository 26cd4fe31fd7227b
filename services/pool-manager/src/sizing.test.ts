import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { live, sizePool, type SizingInput } from './sizing.js';

const input = fc.record({
  counts: fc.record({ requested: fc.nat(20), registered: fc.nat(20), starting: fc.nat(20), idle: fc.nat(20), busy: fc.nat(20) }),
  pending: fc.nat(50),
  finishedSinceDemand: fc.nat(5),
  running: fc.nat(30),
  minIdle: fc.nat(10),
  maxRunners: fc.nat(40),
  drained: fc.boolean(),
  backingOff: fc.boolean(),
});

describe('sizePool', () => {
  it('holds the warm minimum and adds one runner per pending job', () => {
    const counts = { requested: 0, registered: 0, starting: 0, idle: 1, busy: 2 };
    expect(sizePool({ counts, pending: 3, running: 2, minIdle: 2, maxRunners: 10, drained: false, backingOff: false })).toEqual({ desired: 7, create: 4, surplusIdle: 0 });
    expect(sizePool({ counts, pending: 0, running: 2, minIdle: 0, maxRunners: 10, drained: false, backingOff: false })).toEqual({ desired: 2, create: 0, surplusIdle: 1 });
  });

  it('does not create again for a job whose runner took it before the next demand snapshot', () => {
    // Snapshot still says 1 pending and 0 running; our runner is already busy with that job.
    const counts = { requested: 0, registered: 0, starting: 0, idle: 0, busy: 1 };
    expect(sizePool({ counts, pending: 1, running: 0, minIdle: 0, maxRunners: 10, drained: false, backingOff: false }).create).toBe(0);
  });

  it('does not create for a job whose runner took it and finished before the next snapshot', () => {
    // Snapshot still says 1 pending; the runner that took that job is already finished (a short job).
    const counts = { requested: 0, registered: 0, starting: 0, idle: 0, busy: 0 };
    expect(sizePool({ counts, pending: 1, finishedSinceDemand: 1, running: 0, minIdle: 0, maxRunners: 10, drained: false, backingOff: false }).create).toBe(0);
    expect(sizePool({ counts, pending: 3, finishedSinceDemand: 1, running: 0, minIdle: 1, maxRunners: 10, drained: false, backingOff: false }).create).toBe(3);
  });

  it('does not create for a job whose runner finished before the snapshot says it completed', () => {
    // Snapshot still says 1 running; its runner is already finished (gone from our live counts).
    const counts = { requested: 0, registered: 0, starting: 0, idle: 0, busy: 0 };
    expect(sizePool({ counts, pending: 0, running: 1, minIdle: 0, maxRunners: 4, drained: false, backingOff: false }).create).toBe(0);
    expect(sizePool({ counts: { ...counts, idle: 1 }, pending: 0, running: 1, minIdle: 0, maxRunners: 4, drained: false, backingOff: false }).surplusIdle).toBe(1);
  });

  it('never plans beyond the maximum, never creates while drained or backing off, never counts busy runners as surplus', () => {
    fc.assert(
      fc.property(input, (i: SizingInput) => {
        const d = sizePool(i);
        const after = live(i.counts) + d.create;
        return (
          d.create >= 0 &&
          (d.create === 0 || after <= i.maxRunners) &&
          (!(i.drained || i.backingOff) || d.create === 0) &&
          d.surplusIdle <= i.counts.starting + i.counts.idle &&
          d.desired <= i.maxRunners
        );
      }),
    );
  });

  it('after creating, a second pass with the same demand creates nothing (a level, not an event)', () => {
    fc.assert(
      fc.property(input, (i: SizingInput) => {
        const first = sizePool(i);
        const second = sizePool({ ...i, counts: { ...i.counts, requested: i.counts.requested + first.create } });
        return second.create === 0;
      }),
    );
  });
});
