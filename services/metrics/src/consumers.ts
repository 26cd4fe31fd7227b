import type { NatsConnection } from '@nats-io/transport-node';
import {
  contractsCodec,
  type DeadLetter,
  type DemandSnapshot,
  type ExecutorHeartbeat,
  type JobCompleted,
  type JobQueued,
  type JobStarted,
  type JobStuck,
  type JobUnmatched,
  type PoolSnapshot,
  type RunnerExited,
  type RunnerFailed,
  type RunnerRemoved,
  type RunnerRequested,
  type RunnerStarted,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { createConsumer, type ConsumeContext, type Consumer, type Logger } from '@runnerhub/platform';
import type { FactMetrics } from './facts.js';
import type { LevelMetrics } from './levels.js';

/**
 * The metrics service's own durable consumers, one per stream it reads. THEIR NAMES ARE PERSISTED
 * SERVER STATE (each one's place in its stream): never rename them, or the new name replays the
 * whole stream into the counters.
 *
 * EXECUTOR is not read: it is a work queue, where a second consumer of the same subjects is refused
 * by the server. What the executors do with commands shows up as runner.* facts instead.
 */
export const METRICS_DURABLES = {
  github: 'metrics-github',
  jobs: 'metrics-jobs',
  demand: 'metrics-demand',
  runners: 'metrics-runners',
  supply: 'metrics-supply',
  hosts: 'metrics-hosts',
  dead: 'metrics-dead',
} as const;

/** Message ids counted lately: a redelivered fact (its ack was lost) is not counted twice. */
const REMEMBERED_IDS = 50_000;

/** `changed` hears of every job, runner and dead-letter fact (the console's live updates). */
export async function consumeStreams(nc: NatsConnection, deps: { facts: FactMetrics; levels: LevelMetrics; log: Logger; changed?: () => void }): Promise<Consumer[]> {
  const { facts, levels, log } = deps;
  const changed = deps.changed ?? (() => undefined);
  const seen = new Set<string>();
  /** Runs `count` once per message id (facts); levels are idempotent and skip this. */
  const once = (ctx: ConsumeContext, count: () => void) => {
    const id = ctx.msgId ?? `${ctx.subject}#${ctx.seq}`;
    if (seen.has(id)) return;
    seen.add(id);
    if (seen.size > REMEMBERED_IDS) seen.delete(seen.values().next().value!);
    count();
  };

  const github = await createConsumer<SubjectMessages, 'gh.>'>(nc, {
    name: 'metrics.github',
    stream: 'GITHUB',
    durable: METRICS_DURABLES.github,
    filterSubject: 'gh.>',
    codec: contractsCodec,
    concurrency: 4,
    log,
    handler: (_event, ctx) => once(ctx, () => facts.githubEvent(ctx.subject)),
  });

  const jobs = await createConsumer<SubjectMessages, 'job.*'>(nc, {
    name: 'metrics.jobs',
    stream: 'JOBS',
    durable: METRICS_DURABLES.jobs,
    filterSubject: 'job.*',
    codec: contractsCodec,
    concurrency: 4,
    log,
    handler: (message: unknown, ctx) => {
      changed();
      switch (ctx.subject) {
        case 'job.queued':
          return once(ctx, () => facts.jobQueued(message as JobQueued));
        case 'job.started':
          return once(ctx, () => facts.jobStarted(message as JobStarted));
        case 'job.completed':
          return once(ctx, () => facts.jobCompleted(message as JobCompleted));
        case 'job.unmatched':
          return once(ctx, () => facts.jobUnmatched(message as JobUnmatched));
        case 'job.stuck':
          return once(ctx, () => facts.jobStuck(message as JobStuck));
      }
    },
  });
  // Snapshots one at a time, so they apply in order (levels also ignore an older one).
  const demand = await createConsumer<SubjectMessages, 'pool.demand'>(nc, {
    name: 'metrics.demand',
    stream: 'JOBS',
    durable: METRICS_DURABLES.demand,
    filterSubject: 'pool.demand',
    codec: contractsCodec,
    log,
    handler: (snapshot: DemandSnapshot) => levels.demand(snapshot),
  });

  const runners = await createConsumer<SubjectMessages, 'runner.*'>(nc, {
    name: 'metrics.runners',
    stream: 'RUNNERS',
    durable: METRICS_DURABLES.runners,
    filterSubject: 'runner.*',
    codec: contractsCodec,
    concurrency: 4,
    log,
    handler: (message: unknown, ctx) => {
      changed();
      switch (ctx.subject) {
        case 'runner.requested':
          return once(ctx, () => facts.runnerRequested(message as RunnerRequested));
        case 'runner.started':
          return once(ctx, () => facts.runnerStarted(message as RunnerStarted));
        case 'runner.exited':
          return once(ctx, () => facts.runnerExited(message as RunnerExited));
        case 'runner.failed':
          return once(ctx, () => facts.runnerFailed(message as RunnerFailed));
        case 'runner.removed':
          return once(ctx, () => facts.runnerRemoved(message as RunnerRemoved));
      }
    },
  });
  const supply = await createConsumer<SubjectMessages, 'pool.snapshot'>(nc, {
    name: 'metrics.supply',
    stream: 'RUNNERS',
    durable: METRICS_DURABLES.supply,
    filterSubject: 'pool.snapshot',
    codec: contractsCodec,
    log,
    handler: (snapshot: PoolSnapshot) => levels.supply(snapshot),
  });

  const hosts = await createConsumer<SubjectMessages, 'executor.heartbeat.*'>(nc, {
    name: 'metrics.hosts',
    stream: 'HOSTS',
    durable: METRICS_DURABLES.hosts,
    filterSubject: 'executor.heartbeat.*',
    codec: contractsCodec,
    log,
    handler: (beat: ExecutorHeartbeat) => levels.heartbeat(beat),
  });

  const dead = await createConsumer<SubjectMessages, 'dead.>'>(nc, {
    name: 'metrics.dead',
    stream: 'DEAD',
    durable: METRICS_DURABLES.dead,
    filterSubject: 'dead.>',
    codec: contractsCodec,
    log,
    handler: (letter: DeadLetter, ctx) => {
      changed();
      once(ctx, () => facts.deadLetter(letter));
    },
  });

  return [github, jobs, demand, runners, supply, hosts, dead];
}
