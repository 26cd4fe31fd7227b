import type Docker from 'dockerode';
import { LABEL } from './labels.js';

/**
 * What a deployment left behind in Docker: its containers and networks (found by label) and the
 * anonymous volumes of its containers. Docker labels no anonymous volume and forgets which
 * container had one once the container is removed (`docker rm` without `-v` leaves it, nameless
 * and unowned), so volumes are followed on Docker's event feed from the start: a container's
 * create event carries its labels, a volume's mount event names its container, a destroy event
 * ends either; the containers there before the watch are inspected. A container removed before
 * the watch started is not seen. Only needs what the socket proxy allows (events, container list
 * and inspect).
 */

export interface Leftovers {
  containers: string[];
  networks: string[];
  /** Anonymous volumes of the deployment's containers that outlived their container. */
  volumes: string[];
}

export interface LeftoverWatch {
  /** What is left now. A volume counts once its container is gone and the volume is not. */
  leftovers(): Promise<Leftovers>;
  /** Every volume a container of the deployment mounted so far, with its container id. */
  volumesSeen(): ReadonlyMap<string, string>;
  stop(): void;
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

/** After a reconnect, replay this much before the last event seen: Docker's times are in seconds. */
const REPLAY_MARGIN_S = 2;

export async function watchLeftovers(docker: Docker, owner: { deployment: string; host?: string }): Promise<LeftoverWatch> {
  const label: string[] = [`${LABEL.deployment}=${owner.deployment}`, ...(owner.host ? [`${LABEL.host}=${owner.host}`] : [])];
  const ours = new Set<string>();
  const gone = new Set<string>();
  /** volume name → container id */
  const volumes = new Map<string, string>();
  const destroyed = new Set<string>();
  let stopped = false;
  let since = Math.floor(Date.now() / 1000) - REPLAY_MARGIN_S;
  let stream: NodeJS.ReadableStream | undefined;

  const isOurs = (attrs: Record<string, string>) => attrs[LABEL.deployment] === owner.deployment && (!owner.host || attrs[LABEL.host] === owner.host);
  const addVolume = (name: string, container: string) => {
    if (!destroyed.has(name)) volumes.set(name, container);
  };
  // A container that is created and never started mounts nothing: read its volumes from inspect.
  const inspectVolumes = async (id: string) => {
    try {
      const info = await docker.getContainer(id).inspect();
      for (const m of info.Mounts ?? []) if (m.Type === 'volume' && m.Name) addVolume(m.Name, id);
    } catch {
      // Already removed: its mount events (if it ran) said which volumes it had.
    }
  };
  const onEvent = (e: DockerEvent) => {
    if (typeof e.time === 'number') since = Math.max(since, e.time - REPLAY_MARGIN_S);
    const id = e.Actor?.ID ?? '';
    const attrs = e.Actor?.Attributes ?? {};
    if (e.Type === 'container') {
      if (e.Action === 'create' && isOurs(attrs) && !ours.has(id)) {
        ours.add(id);
        void inspectVolumes(id);
      } else if (e.Action === 'destroy' && ours.has(id)) gone.add(id);
    } else if (e.Type === 'volume') {
      if (e.Action === 'mount' && attrs.container && ours.has(attrs.container)) addVolume(id, attrs.container);
      else if (e.Action === 'destroy') {
        destroyed.add(id);
        volumes.delete(id);
      }
    }
  };

  const subscribe = async () => {
    const s = await docker.getEvents({ since, filters: { type: ['container', 'volume'] } });
    stream = s;
    let buffered = '';
    s.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) onEvent(JSON.parse(line) as DockerEvent);
      }
    });
    // The feed may drop (a proxy restart); pick it up where it was.
    const again = () => {
      if (stopped) return;
      setTimeout(() => void subscribe().catch(again), 500).unref();
    };
    s.on('error', again);
    s.on('end', again);
  };
  await subscribe();
  // Containers that were there before the watch: their volumes from inspect.
  for (const c of await docker.listContainers({ all: true, filters: { label } })) {
    ours.add(c.Id);
    await inspectVolumes(c.Id);
  }

  return {
    async leftovers() {
      const [containers, networks] = await Promise.all([docker.listContainers({ all: true, filters: { label } }), docker.listNetworks({ filters: { label } })]);
      const live = new Set(containers.map((c) => c.Id));
      return {
        containers: containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')).sort(),
        networks: networks.map((n) => n.Name).sort(),
        volumes: [...volumes].filter(([, container]) => gone.has(container) || !live.has(container)).map(([name]) => name).sort(),
      };
    },
    volumesSeen: () => volumes,
    stop() {
      stopped = true;
      (stream as { destroy?: () => void } | undefined)?.destroy?.();
    },
  };
}
