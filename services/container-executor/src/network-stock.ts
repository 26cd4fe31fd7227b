import { randomBytes } from 'node:crypto';
import { LABEL, ownershipLabels } from '@runnerhub/docker';
import type { Logger } from '@runnerhub/platform';
import type Docker from 'dockerode';

/**
 * Runner networks made ahead of need. Every runner gets a bridge network of its own by default, and
 * Docker takes ≈0.2 s to create one (more on a busy host), on the path of every cold start; a few
 * made in advance take that off it. A spare carries this deployment's and host's labels plus
 * `io.runnerhub.spare-network`. Once a runner takes it, the runner's container names it (its
 * own-network label), so the container's removal removes the network as with one made for it.
 * Spares nobody took (an executor that stopped, a create that failed) are left to the stray sweep,
 * which removes a spare no container names once this stock no longer holds or just handed it out.
 */

export interface NetworkStock {
  /** A ready network for one runner, or undefined when none is ready (the caller makes its own). */
  take(): string | undefined;
  /** True while a spare is ready, or was handed out so recently that its container may not exist yet. */
  holds(name: string): boolean;
  /** Removes the spares nobody took (shutdown). */
  stop(): Promise<void>;
}

/** A taken spare's container is created within seconds; past this the sweep may judge the network. */
const HANDED_OUT_MS = 60_000;
/** After a failed create, wait this long before trying again (Docker out of address pools, say). */
const RETRY_MS = 30_000;

export function startNetworkStock(deps: { docker: Docker; deploymentId: string; host: string; size: number; log: Logger }): NetworkStock {
  const ready: string[] = [];
  const handedOut = new Map<string, number>();
  let filling: Promise<void> | undefined;
  let retryAt = 0;
  let stopped = false;

  const fill = (): void => {
    if (filling || stopped || ready.length >= deps.size || Date.now() < retryAt) return;
    filling = (async () => {
      while (!stopped && ready.length < deps.size) {
        const name = `rh-net-${randomBytes(5).toString('hex')}`;
        await deps.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { ...ownershipLabels({ deploymentId: deps.deploymentId, host: deps.host, pool: '', runnerId: '', runnerName: '', jobId: '0' }), [LABEL.spareNetwork]: 'true' },
        });
        ready.push(name);
      }
    })()
      .catch((error: unknown) => {
        retryAt = Date.now() + RETRY_MS;
        deps.log.warn({ err: String(error) }, 'could not make a spare runner network; runners make their own meanwhile');
      })
      .finally(() => {
        filling = undefined;
      });
  };
  fill();

  return {
    take() {
      const name = ready.shift();
      if (name) handedOut.set(name, Date.now());
      for (const [n, at] of handedOut) if (Date.now() - at > HANDED_OUT_MS) handedOut.delete(n);
      fill();
      return name;
    },
    holds: (name) => ready.includes(name) || Date.now() - (handedOut.get(name) ?? 0) < HANDED_OUT_MS,
    async stop() {
      stopped = true;
      await filling;
      for (const name of ready.splice(0)) await deps.docker.getNetwork(name).remove().catch(() => undefined);
    },
  };
}
