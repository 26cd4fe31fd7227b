import { RemovalReason, RunnerFailureReason, timestampNow, type RunnerRef, type SubjectMessages } from '@runnerhub/contracts';
import type { Logger, Publisher } from '@runnerhub/platform';

/**
 * The runner facts only the pool-manager knows: asked for, registered at GitHub, failed before a
 * container existed (JIT registration, boot timeout), removed and why. The executor publishes the
 * container's own (started, exited, failed to start). The row is written first; a fact lost in a
 * crash right after costs a metric, never a runner, so they are published directly.
 */
export function runnerFacts(publisher: Publisher<SubjectMessages>, log: Logger) {
  const send = <S extends 'runner.requested' | 'runner.registered' | 'runner.failed' | 'runner.removed'>(subject: S, message: SubjectMessages[S], msgId: string): Promise<void> =>
    publisher.publish(subject, message, { msgId }).then(
      () => undefined,
      (err: unknown) => log.warn({ subject, msgId, err: (err as Error).message }, 'runner fact not published'),
    );
  return {
    requested: (runner: RunnerRef, forJobId: bigint) =>
      send('runner.requested', { $typeName: 'runnerhub.v1.RunnerRequested', runner, forJobId, requestedAt: timestampNow() }, `runner:${runner.runnerId}:requested`),
    registered: (runner: RunnerRef, githubRunnerId: number, runnerGroupId: number) =>
      send('runner.registered', { $typeName: 'runnerhub.v1.RunnerRegistered', runner, githubRunnerId: BigInt(githubRunnerId), runnerGroupId: BigInt(runnerGroupId), registeredAt: timestampNow() }, `runner:${runner.runnerId}:registered`),
    failed: (runner: RunnerRef, reason: RunnerFailureReason, message: string) =>
      send('runner.failed', { $typeName: 'runnerhub.v1.RunnerFailed', runner, reason, message, lastLogLines: [], exitCode: 0, failedAt: timestampNow() }, `runner:${runner.runnerId}:failed`),
    removed: (runner: RunnerRef, reason: RemovalReason, detail: string) =>
      send('runner.removed', { $typeName: 'runnerhub.v1.RunnerRemoved', runner, reason, detail, removedAt: timestampNow() }, `runner:${runner.runnerId}:removed`),
  };
}

export type RunnerFacts = ReturnType<typeof runnerFacts>;

