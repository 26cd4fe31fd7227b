import { ForbiddenError, GitHubError, RateLimitedError, UnauthorizedError, UnavailableError } from '@runnerhub/github';
import type { ReportKind } from './render.js';

/**
 * What happens to a report, as pure functions: whether it may be written at all (switches), and
 * what a failed GitHub call means for it (retry when, give up, or stop the whole installation).
 */

export type ReportState = 'pending' | 'sent' | 'failed' | 'disabled';

export interface Switches {
  /** REPORTER_CHECK_RUNS */
  checkRuns: boolean;
  /** REPORTER_JOB_REPORTS */
  jobReports: boolean;
  /** REPORTER_DISABLED_INSTALLATIONS */
  disabledInstallations: readonly string[];
}

/** A pool's `reporting` options; undefined when the pool (or its options) are unknown. */
export interface PoolReporting {
  checkRuns: boolean;
  jobReports: boolean;
}

/** Defaults for a pool that sets no options, or a job without a pool (unmatched). */
export const DEFAULT_POOL_REPORTING: PoolReporting = { checkRuns: true, jobReports: false };

export function reportingAllowed(kind: ReportKind, installationId: string, pool: PoolReporting | undefined, s: Switches): boolean {
  if (s.disabledInstallations.includes(installationId)) return false;
  const p = pool ?? DEFAULT_POOL_REPORTING;
  if (kind === 'job_report') return s.jobReports && p.jobReports;
  return s.checkRuns && p.checkRuns;
}

export type FailureKind =
  /** The shared budget is spent or GitHub set a secondary limit: wait, do not count an attempt. */
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** The App lacks a permission on this installation (e.g. checks: write): stop calling for it. */
  | { kind: 'permission'; permission: string }
  /** 5xx, network, a token that did not work: back off and try again. */
  | { kind: 'transient' }
  /** GitHub will answer the same again (404, 422, another App's check run): give up on this report. */
  | { kind: 'final' };

export function classify(err: unknown): FailureKind {
  if (err instanceof RateLimitedError) return { kind: 'rate_limited', retryAfterMs: err.retryAfterMs };
  if (err instanceof ForbiddenError) return err.acceptedPermissions ? { kind: 'permission', permission: err.acceptedPermissions } : { kind: 'final' };
  if (err instanceof UnavailableError || err instanceof UnauthorizedError) return { kind: 'transient' };
  if (err instanceof GitHubError) return err.status === 0 || err.status >= 500 ? { kind: 'transient' } : { kind: 'final' };
  // Redis or Postgres hiccups around the call: worth another try.
  return { kind: 'transient' };
}

/** First retry after this long, doubling per failed attempt up to the cap, with jitter. */
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 5 * 60_000;

export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  // Half fixed, half jitter: never a hot loop, and replicas spread out.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface Outcome {
  state: ReportState;
  /** Added to the report's failed attempts (rate-limit waits are not failures). */
  attempts: number;
  delayMs: number;
  disableInstallation: boolean;
}

export function afterFailure(f: FailureKind, attemptsSoFar: number, limits: { maxAttempts: number; maxRateWaitMs: number }, random?: () => number): Outcome {
  switch (f.kind) {
    case 'rate_limited':
      // The budget in Redis answers without calling GitHub, so looking again early is cheap.
      return { state: 'pending', attempts: 0, delayMs: Math.max(1_000, Math.min(f.retryAfterMs, limits.maxRateWaitMs)), disableInstallation: false };
    case 'permission':
      return { state: 'disabled', attempts: 1, delayMs: 0, disableInstallation: true };
    case 'final':
      return { state: 'failed', attempts: 1, delayMs: 0, disableInstallation: false };
    case 'transient': {
      const attempts = attemptsSoFar + 1;
      if (attempts >= limits.maxAttempts) return { state: 'failed', attempts: 1, delayMs: 0, disableInstallation: false };
      return { state: 'pending', attempts: 1, delayMs: retryDelayMs(attempts, random), disableInstallation: false };
    }
  }
}
