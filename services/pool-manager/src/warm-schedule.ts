import { Cron } from 'croner';
import type { PoolDefinition, WarmSchedule } from '@runnerhub/contracts';

/**
 * Warm schedules: during a window that opens when the cron expression fires and stays open for its
 * duration, a pool holds the schedule's warm minimum instead of its default (the largest one when
 * windows overlap). A working-hours pool keeps runners warm from 8:00 and none at night, as
 * philips-labs' idle config and ARC's scheduled overrides do.
 */

/** Why a cron expression or time zone is unusable, or undefined when it is fine. */
export function scheduleProblem(cron: string, timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    return `timezone: ${timezone} is not an IANA time zone (e.g. Europe/Berlin)`;
  }
  if (cron.trim().split(/\s+/).length !== 5) return `cron: "${cron}" needs five fields (minute hour day-of-month month day-of-week)`;
  try {
    if (new Cron(cron, { timezone, paused: true }).nextRun() === null) return `cron: "${cron}" never fires`;
  } catch (error) {
    return `cron: "${cron}" ${(error as Error).message}`;
  }
  return undefined;
}

/** Whether the schedule's window is open at `now`. */
export function windowOpen(schedule: WarmSchedule, now: Date): boolean {
  // The window that matters opened at the last firing at or before now; seconds are ignored as cron does.
  const reference = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 1);
  const [opened] = new Cron(schedule.cron, { timezone: schedule.timezone || 'UTC', paused: true }).previousRuns(1, reference);
  return opened !== undefined && now.getTime() < opened.getTime() + schedule.durationSeconds * 1000;
}

/** The warm minimum the pool holds at `now`. */
export function warmMinimum(pool: Pick<PoolDefinition, 'minIdle' | 'warmSchedules'>, now: Date): number {
  const open = pool.warmSchedules.filter((s) => windowOpen(s, now));
  return open.length === 0 ? pool.minIdle : Math.max(...open.map((s) => s.minIdle));
}
