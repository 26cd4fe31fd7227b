import { executorHeartbeatSubject, type SubjectMessages } from '@runnerhub/contracts';
import type { Logger, Publisher } from '@runnerhub/platform';
import type Docker from 'dockerode';
import type { HostCapabilitiesReader } from './host-capabilities.js';
import { heartbeat, type HostSettings } from './host-state.js';

/** Publishes this host's capacity and capabilities every `seconds`; a missed beat is only a stale level. */
export function startHeartbeats(deps: { docker: Docker; publisher: Publisher<SubjectMessages>; host: HostSettings; capabilities: HostCapabilitiesReader; seconds: number; log: Logger }): { stop(): void } {
  let beat = 0;
  const send = async (): Promise<void> => {
    const message = await heartbeat(deps.docker, deps.host, deps.capabilities);
    await deps.publisher.publish(executorHeartbeatSubject(deps.host.host), message, { msgId: `heartbeat:${deps.host.instanceId}:${beat++}` });
  };
  const tick = (): void => {
    send().catch((error: unknown) => deps.log.warn({ err: String(error) }, 'heartbeat not sent'));
  };
  tick();
  const timer = setInterval(tick, deps.seconds * 1000);
  return { stop: () => clearInterval(timer) };
}
