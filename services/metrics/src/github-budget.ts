import type { Meter } from '@opentelemetry/api';
import { DEFAULT_KEY_PREFIX, readRateLevels, type RateLevel } from '@runnerhub/github';
import type { Logger } from '@runnerhub/platform';
import type { Redis } from 'ioredis';

/**
 * GitHub's rate budget per installation, as every service records it in Redis from GitHub's
 * x-ratelimit headers (libs/github RateBudget). Read here on a timer rather than exposed by each
 * service: the budget is shared, so one reader gives one series per installation, not one per
 * service that happened to call last. A failed read keeps the last values and logs once.
 */
export function githubBudgetMetrics(meter: Meter, deps: { redis: Redis; seconds: number; log: Logger }): { stop(): void } {
  let levels: RateLevel[] = [];
  let failing = false;
  const read = async () => {
    try {
      levels = await readRateLevels(deps.redis, DEFAULT_KEY_PREFIX);
      if (failing) deps.log.info('reading the GitHub rate budget from Redis again');
      failing = false;
    } catch (err) {
      if (!failing) deps.log.warn({ err: (err as Error).message }, 'cannot read the GitHub rate budget from Redis; keeping the last values');
      failing = true;
    }
  };
  const labels = (l: RateLevel) => ({ app: l.appId, installation: String(l.owner), resource: l.resource });
  meter
    .createObservableGauge('runnerhub_github_rate_remaining', { description: "Calls left in GitHub's hourly window, per App installation ('app' for the App's own calls) and resource." })
    .addCallback((r) => {
      for (const l of levels) r.observe(l.remaining, labels(l));
    });
  meter.createObservableGauge('runnerhub_github_rate_limit', { description: "GitHub's hourly limit, per installation and resource." }).addCallback((r) => {
    for (const l of levels) if (l.limit !== undefined) r.observe(l.limit, labels(l));
  });
  meter
    .createObservableGauge('runnerhub_github_rate_reset_timestamp_seconds', { description: 'When the current hourly window resets, per installation and resource.', unit: 's' })
    .addCallback((r) => {
      for (const l of levels) r.observe(l.reset, labels(l));
    });
  void read();
  const timer = setInterval(() => void read(), deps.seconds * 1000);
  return { stop: () => clearInterval(timer) };
}
