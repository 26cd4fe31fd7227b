import type { SimClock } from './clock.js';

/**
 * GitHub's rule for self-hosted runner versions: "If you do not perform a software update within
 * 30 days, the GitHub Actions service will not queue jobs to your runner" (GitHub docs,
 * "Controlling runner software updates on self-hosted runners"; quoted in actions/runner#3651).
 * A version is deprecated once a newer release has been out for more than 30 days. The runner
 * learns it when it asks for a message: the broker answers 403 with error kind
 * `RunnerVersionTooOld` and the message the runner prints, "Runner version v2.320.0 is deprecated
 * and cannot receive messages." (actions/runner BrokerHttpClient.cs, #3651, #1991), and it gets no
 * job.
 */

export interface RunnerRelease {
  version: string;
  /** When GitHub published it (ISO time or epoch ms). */
  publishedAt: string | number;
}

export const DEPRECATION_DAYS = 30;
const DAY_MS = 86_400_000;

/** The release the simulator treats as latest unless told: the fake runner's, 10 days old at start. */
export function defaultRunnerReleases(now: number): RunnerRelease[] {
  return [{ version: '2.330.0', publishedAt: now - 10 * DAY_MS }];
}

/** "2.330.0", "v2.330.0-runnerhub-fake" → [2, 330, 0]; anything else → null. */
export function parseRunnerVersion(version: string): number[] | null {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return match ? match.slice(1, 4).map(Number) : null;
}

function newer(a: number[], b: number[]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

export class RunnerVersions {
  private readonly releases: { version: number[]; publishedAt: number }[];

  constructor(
    private readonly clock: SimClock,
    releases: readonly RunnerRelease[],
  ) {
    this.releases = releases.flatMap((r) => {
      const version = parseRunnerVersion(r.version);
      const publishedAt = typeof r.publishedAt === 'number' ? r.publishedAt : Date.parse(r.publishedAt);
      return version && Number.isFinite(publishedAt) ? [{ version, publishedAt }] : [];
    });
  }

  /** The broker's message for a runner of this version, or undefined when it may take jobs. */
  tooOld(reported: string): string | undefined {
    const version = parseRunnerVersion(reported);
    // A version the simulator cannot read (a hand-written client) is not judged.
    if (!version) return undefined;
    const cutoff = this.clock.now() - DEPRECATION_DAYS * DAY_MS;
    const outdatedBy = this.releases.some((r) => newer(r.version, version) && r.publishedAt < cutoff);
    return outdatedBy ? `Runner version v${version.join('.')} is deprecated and cannot receive messages.` : undefined;
  }
}
