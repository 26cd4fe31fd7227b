import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, type SubjectMessages } from '@runnerhub/contracts';
import { createConsumer, type Consumer, type Logger } from '@runnerhub/platform';
import type pg from 'pg';
import { decide } from './decide.js';
import type { DemandPublisher } from './demand.js';
import { recordWorkflowJob } from './jobs.js';
import type { OriginLookup } from './origin.js';
import type { OutboxRelay } from './outbox.js';
import type { PoolDirectory } from './pools.js';
import type { SchedulingRules } from './rules.js';

/**
 * The durable consumer of workflow_job deliveries. Its name is persisted server state (its place in
 * the GITHUB stream): never rename it.
 */
export const WORKFLOW_JOBS_DURABLE = 'scheduler-workflow-jobs';

export function consumeWorkflowJobs(nc: NatsConnection, deps: { db: pg.Pool; pools: PoolDirectory; rules: SchedulingRules; origins: OriginLookup; relay: OutboxRelay; demand: DemandPublisher; log: Logger }): Promise<Consumer> {
  return createConsumer<SubjectMessages, 'gh.workflow_job.*'>(nc, {
    name: 'scheduler.workflow-jobs',
    stream: 'GITHUB',
    durable: WORKFLOW_JOBS_DURABLE,
    filterSubject: 'gh.workflow_job.*',
    codec: contractsCodec,
    // Row locks serialise events of one job; different jobs proceed in parallel.
    concurrency: 4,
    log: deps.log,
    handlers: {
      'gh.workflow_job.*': async (event, ctx) => {
        // Asked before the job's transaction: it may take a GitHub call (a public repository's run).
        const origin = await deps.origins.of(event);
        const facts = await recordWorkflowJob(deps.db, event, () => decide(event, deps.pools, deps.rules, origin), ctx.headers.traceparent);
        if (facts.length > 0) {
          deps.relay.wake();
          deps.demand.nudge();
        }
      },
    },
  });
}
