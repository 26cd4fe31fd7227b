import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, type SubjectMessages } from '@runnerhub/contracts';
import { runnerExit } from '@runnerhub/github';
import { createConsumer, type Consumer, type Logger } from '@runnerhub/platform';
import type { RunnersStore } from './runners-store.js';

/**
 * Runner facts from the executors (started, exited, failed) and job starts from the scheduler move
 * the runner rows forward. Durable names are server state: never rename them.
 */
export async function consumeFacts(nc: NatsConnection, deps: { runners: RunnersStore; log: Logger; onChange(): void }): Promise<Consumer[]> {
  const runnerFacts = await createConsumer<SubjectMessages, 'runner.*'>(nc, {
    name: 'pool-manager.runner-facts',
    stream: 'RUNNERS',
    durable: 'pool-manager-runner-facts',
    filterSubject: 'runner.*',
    codec: contractsCodec,
    concurrency: 4,
    log: deps.log,
    handlers: {
      'runner.started': async (fact) => {
        const id = fact.runner?.runnerId;
        if (!id) return;
        await deps.runners.started(id, fact.containerId);
        deps.onChange();
      },
      'runner.exited': async (fact) => {
        const id = fact.runner?.runnerId;
        if (!id) return;
        // The runner's own exit codes and last lines (an outdated image, a reused JIT config, ...)
        // fail it with what to do; the pool backs off instead of making the same runner again.
        const exit = runnerExit(fact);
        if (exit.failure) await deps.runners.failed(id, exit.message);
        else await deps.runners.finished(id);
        if (exit.kind !== 'finished') deps.log.warn({ runner: fact.runner?.runnerName, exit: exit.kind, exitCode: fact.exitCode }, exit.message);
        deps.onChange();
      },
      'runner.failed': async (fact) => {
        const id = fact.runner?.runnerId;
        if (!id) return;
        await deps.runners.failed(id, fact.message);
        deps.onChange();
      },
    },
  });
  const jobStarts = await createConsumer<SubjectMessages, 'job.started'>(nc, {
    name: 'pool-manager.job-starts',
    stream: 'JOBS',
    durable: 'pool-manager-job-starts',
    filterSubject: 'job.started',
    codec: contractsCodec,
    log: deps.log,
    handlers: {
      'job.started': async (fact) => {
        if (fact.runnerName && (await deps.runners.busyByName(fact.runnerName, fact.job?.jobId ?? 0n))) deps.onChange();
      },
    },
  });
  return [runnerFacts, jobStarts];
}
