import type { WorkflowJobEvent } from '@runnerhub/contracts';
import type { Decision } from './jobs.js';
import { choosePool, type JobOrigin } from './matching.js';
import type { PoolDirectory } from './pools.js';
import { classify, type SchedulingRules } from './rules.js';

/** What the scheduler decides once, when it first hears of a job: its pool (or why none) and its class. */
export function decide(event: WorkflowJobEvent, pools: PoolDirectory, rules: SchedulingRules, origin: JobOrigin): Decision {
  return {
    match: choosePool(event.labels, pools.current(), origin),
    priority: classify(rules, { repository: `${event.repository?.owner ?? ''}/${event.repository?.name ?? ''}`, workflow: event.workflowName, branch: event.headBranch }),
    origin,
  };
}
