import { describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, RateLimitedError, UnavailableError, ValidationError } from '@runnerhub/github';
import { afterFailure, classify, reportingAllowed, retryDelayMs } from './report-state.js';

const fields = (status: number) => ({ status, method: 'POST', url: 'https://api.github.com/repos/a/b/check-runs', call: 'POST /repos/a/b/check-runs', githubMessage: 'm', requestId: undefined });
const limits = { maxAttempts: 3, maxRateWaitMs: 60_000 };

describe('reportingAllowed', () => {
  const on = { checkRuns: true, jobReports: true, disabledInstallations: [] };
  it('writes check runs for unmatched, stuck and failed jobs and no job reports by default', () => {
    for (const kind of ['unmatched', 'stuck', 'runner_failed'] as const) expect(reportingAllowed(kind, '1', undefined, on)).toBe(true);
    expect(reportingAllowed('job_report', '1', undefined, on)).toBe(false);
  });
  it('follows the pool options, the global switches and the installation list', () => {
    expect(reportingAllowed('job_report', '1', { checkRuns: true, jobReports: true }, on)).toBe(true);
    expect(reportingAllowed('job_report', '1', { checkRuns: true, jobReports: true }, { ...on, jobReports: false })).toBe(false);
    expect(reportingAllowed('stuck', '1', { checkRuns: false, jobReports: true }, on)).toBe(false);
    expect(reportingAllowed('unmatched', '1', undefined, { ...on, checkRuns: false })).toBe(false);
    expect(reportingAllowed('unmatched', '7', undefined, { ...on, disabledInstallations: ['7'] })).toBe(false);
  });
});

describe('what a failed call means', () => {
  it('classifies GitHub errors', () => {
    expect(classify(new RateLimitedError(fields(403), { retryAfterMs: 5_000, resetAt: new Date(), secondary: false }))).toEqual({ kind: 'rate_limited', retryAfterMs: 5_000 });
    expect(classify(new ForbiddenError(fields(403), 'checks=write'))).toEqual({ kind: 'permission', permission: 'checks=write' });
    // Another App's check run: refused, but no permission would help.
    expect(classify(new ForbiddenError(fields(403), undefined))).toEqual({ kind: 'final' });
    expect(classify(new UnavailableError(fields(502)))).toEqual({ kind: 'transient' });
    expect(classify(new ValidationError(fields(422)))).toEqual({ kind: 'final' });
    expect(classify(new NotFoundError(fields(404)))).toEqual({ kind: 'final' });
    expect(classify(new Error('redis down'))).toEqual({ kind: 'transient' });
  });

  it('waits out a rate limit without counting an attempt, capped so the budget is looked at again', () => {
    expect(afterFailure({ kind: 'rate_limited', retryAfterMs: 3_600_000 }, 0, limits)).toEqual({ state: 'pending', attempts: 0, delayMs: 60_000, disableInstallation: false });
    expect(afterFailure({ kind: 'rate_limited', retryAfterMs: 10 }, 5, limits).delayMs).toBe(1_000);
  });

  it('backs off transient failures and gives up after maxAttempts', () => {
    const first = afterFailure({ kind: 'transient' }, 0, limits, () => 0.5);
    expect(first).toMatchObject({ state: 'pending', attempts: 1 });
    expect(first.delayMs).toBe(1_500);
    expect(afterFailure({ kind: 'transient' }, 2, limits)).toMatchObject({ state: 'failed' });
  });

  it('disables the installation on a missing permission and fails final answers at once', () => {
    expect(afterFailure({ kind: 'permission', permission: 'checks=write' }, 0, limits)).toMatchObject({ state: 'disabled', disableInstallation: true });
    expect(afterFailure({ kind: 'final' }, 0, limits)).toMatchObject({ state: 'failed', disableInstallation: false });
  });

  it('retry delays grow and stay under the cap', () => {
    expect(retryDelayMs(1, () => 0)).toBe(1_000);
    expect(retryDelayMs(2, () => 1)).toBe(4_000);
    expect(retryDelayMs(30, () => 1)).toBe(300_000);
  });
});
