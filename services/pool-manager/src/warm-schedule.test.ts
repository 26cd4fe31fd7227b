import fc from 'fast-check';
import { create, WarmScheduleSchema } from '@runnerhub/contracts';
import { describe, expect, it } from 'vitest';
import { scheduleProblem, warmMinimum, windowOpen } from './warm-schedule.js';

const schedule = (cron: string, minutes: number, minIdle: number, timezone = '') => create(WarmScheduleSchema, { cron, durationSeconds: minutes * 60, minIdle, timezone });

describe('warm schedules', () => {
  // Weekdays 8:00 for ten hours, Berlin time (UTC+1 in December).
  const office = schedule('0 8 * * 1-5', 600, 3, 'Europe/Berlin');

  it('holds the schedule minimum inside the window and the default outside it', () => {
    const pool = { minIdle: 1, warmSchedules: [office] };
    expect(warmMinimum(pool, new Date('2026-12-02T06:59:59Z'))).toBe(1); // Wednesday 07:59 Berlin
    expect(warmMinimum(pool, new Date('2026-12-02T07:00:00Z'))).toBe(3); // 08:00: the window opens
    expect(warmMinimum(pool, new Date('2026-12-02T07:00:42Z'))).toBe(3);
    expect(warmMinimum(pool, new Date('2026-12-02T16:59:59Z'))).toBe(3);
    expect(warmMinimum(pool, new Date('2026-12-02T17:00:00Z'))).toBe(1); // 18:00: closed
    expect(warmMinimum(pool, new Date('2026-12-05T09:00:00Z'))).toBe(1); // Saturday
  });

  it('follows the time zone across a daylight-saving change', () => {
    // 8:00 Berlin is 06:00 UTC in summer (CEST), 07:00 UTC in winter.
    expect(windowOpen(office, new Date('2026-07-01T06:30:00Z'))).toBe(true);
    expect(windowOpen(office, new Date('2026-12-02T06:30:00Z'))).toBe(false);
  });

  it('may lower the minimum too, and takes the largest of overlapping windows', () => {
    const night = schedule('0 22 * * *', 8 * 60, 0);
    expect(warmMinimum({ minIdle: 2, warmSchedules: [night] }, new Date('2026-12-02T23:00:00Z'))).toBe(0);
    const pool = { minIdle: 0, warmSchedules: [schedule('0 * * * *', 30, 2), schedule('0 12 * * *', 120, 5)] };
    expect(warmMinimum(pool, new Date('2026-12-02T12:10:00Z'))).toBe(5);
    expect(warmMinimum(pool, new Date('2026-12-02T13:10:00Z'))).toBe(5);
    expect(warmMinimum(pool, new Date('2026-12-02T14:10:00Z'))).toBe(2);
    expect(warmMinimum(pool, new Date('2026-12-02T14:40:00Z'))).toBe(0);
  });

  it('a window of d minutes opening every hour is open exactly in the first d minutes of each hour', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 59 }), fc.date({ min: new Date('2020-01-01Z'), max: new Date('2035-01-01Z'), noInvalidDate: true }), (minutes, now) => {
        const open = windowOpen(schedule('0 * * * *', minutes, 1), now);
        expect(open).toBe(now.getUTCMinutes() < minutes);
      }),
      { numRuns: 300 },
    );
  });

  it('names what is wrong with a schedule', () => {
    expect(scheduleProblem('0 8 * * 1-5', 'Europe/Berlin')).toBeUndefined();
    expect(scheduleProblem('0 8 * * 1-5', 'Nowhere/City')).toMatch(/not an IANA time zone/);
    expect(scheduleProblem('0 8 * *', 'UTC')).toMatch(/five fields/);
    expect(scheduleProblem('0 0 30 2 *', 'UTC')).toMatch(/never fires/);
    expect(scheduleProblem('99 8 * * *', 'UTC')).toMatch(/minute/);
  });
});
