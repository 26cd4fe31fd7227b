import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { contractsCodec, type JobStarted } from '@runnerhub/contracts';
import { HEADER_SCHEMA, type Logger } from '@runnerhub/platform';

/** More runners than any host runs at once; the oldest entries go first beyond it. */
const MAX_TRACKED = 2_000;

export interface RunnerJobs {
  /** The job a runner of this deployment took (from job.started), if seen since this process started. */
  jobOf(runnerName: string): bigint | undefined;
  stop(): void;
}

/**
 * Which job each runner took, so a runner's exit report continues its job's trace (docs/observability.md
 * "Traces"). A runner is created for demand, not for one job: GitHub decides which job it gets, and
 * job.started says so. Tracing is best effort, so a plain subscription is enough: a missed fact or
 * a restart only leaves that exit in a trace of its own.
 */
export function trackRunnerJobs(nc: NatsConnection, log: Logger): RunnerJobs {
  const jobs = new Map<string, bigint>();
  const sub: Subscription = nc.subscribe('job.started', {
    callback: (err, msg) => {
      if (err) return;
      try {
        const fact = contractsCodec.decode(msg.subject, msg.data, msg.headers?.get(HEADER_SCHEMA)) as JobStarted;
        if (!fact.runnerName || !fact.job?.jobId) return;
        jobs.delete(fact.runnerName);
        jobs.set(fact.runnerName, fact.job.jobId);
        if (jobs.size > MAX_TRACKED) jobs.delete(jobs.keys().next().value!);
      } catch (error) {
        log.debug({ err: (error as Error).message }, 'job.started not understood; ignored for tracing');
      }
    },
  });
  return {
    jobOf: (name) => jobs.get(name),
    stop: () => sub.unsubscribe(),
  };
}
