import type { NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, executorCommandSubject, executorInventorySubject, type SubjectMessages } from '@runnerhub/contracts';
import { createConsumer, inJobTrace, messageSpanAttributes, type Consumer, type Logger, type Publisher } from '@runnerhub/platform';
import type Docker from 'dockerode';
import type { ExitWatcher } from './exit-watcher.js';
import { inventory, type HostSettings } from './host-state.js';
import { createKeyedQueue } from './keyed-queue.js';
import { createRunner, stopRunner, type RunnerContainerDeps } from './runner-containers.js';

/**
 * This host's commands from the EXECUTOR work queue, one durable consumer per verb (a work queue
 * admits one consumer per subject). Durable names are server state: never rename them.
 */
export async function consumeExecutorCommands(
  nc: NatsConnection,
  deps: { runners: RunnerContainerDeps; exits: ExitWatcher; docker: Docker; host: HostSettings; publisher: Publisher<SubjectMessages>; log: Logger; createConcurrency: number },
): Promise<Consumer[]> {
  const host = deps.host.host;
  const oneAtATime = createKeyedQueue();
  const runnerKey = (runner: { runnerName: string } | undefined): string => runner?.runnerName ?? '';
  const create = await createConsumer<SubjectMessages, `cmd.executor.${string}.create`>(nc, {
    name: 'executor.create',
    stream: 'EXECUTOR',
    durable: `executor-${host}-create`,
    filterSubject: executorCommandSubject(host, 'create'),
    codec: contractsCodec,
    // Image pulls are slow; other creates should not queue behind one.
    concurrency: deps.createConcurrency,
    ackWaitMs: 120_000,
    log: deps.log,
    // Under the job's trace when the pool-manager created the runner for one (for_job_id).
    handler: (command) =>
      oneAtATime(runnerKey(command.runner), () => inJobTrace('runner create', command.forJobId, messageSpanAttributes(command), () => createRunner(command, deps.runners))),
  });
  const remove = await createConsumer<SubjectMessages, `cmd.executor.${string}.remove`>(nc, {
    name: 'executor.remove',
    stream: 'EXECUTOR',
    durable: `executor-${host}-remove`,
    filterSubject: executorCommandSubject(host, 'remove'),
    codec: contractsCodec,
    concurrency: 4,
    log: deps.log,
    handler: (command) =>
      oneAtATime(runnerKey(command.runner), async () => {
        const containerId = await stopRunner(command, deps.runners);
        // Report and remove now rather than waiting for the die event; both paths share the work.
        if (containerId) await deps.exits.handleExit(containerId);
      }),
  });
  const inventoryConsumer = await createConsumer<SubjectMessages, `cmd.executor.${string}.inventory`>(nc, {
    name: 'executor.inventory',
    stream: 'EXECUTOR',
    durable: `executor-${host}-inventory`,
    filterSubject: executorCommandSubject(host, 'inventory'),
    codec: contractsCodec,
    log: deps.log,
    handler: async (request) => {
      const answer = await inventory(deps.docker, deps.host, request.requestId);
      await deps.publisher.publish(executorInventorySubject(host), answer, { msgId: `inventory:${host}:${request.requestId}` });
    },
  });
  return [create, remove, inventoryConsumer];
}
