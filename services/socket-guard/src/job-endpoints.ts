import { request as httpRequest } from 'node:http';
import { JOB_DOCKER_DIR, LABEL, RUNNER_WORK_DIR, jobDockerVolumes } from '@runnerhub/docker';
import { JOB_LABEL, type JobScope } from '@runnerhub/docker-guard';
import type { Logger } from '@runnerhub/platform';
import { createJobEndpoint, dockerCall, type JobEndpoint } from './job-endpoint.js';

/**
 * The job endpoints of one Docker host: one per running runner labelled io.runnerhub.docker-in-job=scoped,
 * opened when the runner container starts and closed when it is gone, when everything its job made
 * (containers, networks, volumes, images, labelled io.runnerhub.job-of=<runner>) and the runner's own
 * docker and work volumes are removed. Driven by Docker's event feed, so the executor needs no call of
 * its own; a sweep on start and every `sweepEveryMs` removes what a job left when this process was
 * not running (a runner killed while the guard restarted).
 */

export interface JobEndpointsSettings {
  deploymentId: string;
  dockerSocket: string;
  log: Logger;
  /** Runner images and the like: a job may not pull, tag or build over them. */
  protectedImages: readonly string[];
  sweepEveryMs?: number;
  onRefuse?: (runner: string, what: string, reason: string) => void;
}

export interface JobEndpoints {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Open runners' endpoints, by runner name. */
  open(): ReadonlyMap<string, JobEndpoint>;
  /** Removes everything the runner's job made (and the runner's docker/work volumes when the runner is gone). */
  cleanUp(runnerName: string): Promise<CleanUpReport>;
  sweep(): Promise<void>;
}

export interface CleanUpReport {
  containers: number;
  networks: number;
  volumes: number;
  images: number;
}

interface RunnerInspect {
  Name: string;
  State: { Running: boolean };
  Config: { Labels?: Record<string, string> };
  HostConfig: { NetworkMode?: string; Memory?: number; NanoCpus?: number; PidsLimit?: number | null };
  Mounts?: Array<{ Type: string; Name?: string; Source: string; Destination: string }>;
}

export function createJobEndpoints(s: JobEndpointsSettings): JobEndpoints {
  const endpoints = new Map<string, JobEndpoint>();
  const docker = (method: string, path: string, body?: unknown) => dockerCall(s.dockerSocket, method, path, body);
  let events: { destroy(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const serial = new Map<string, Promise<unknown>>();
  /** One thing at a time per runner: a start and a destroy of the same runner never interleave. */
  const onRunner = <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const next = (serial.get(name) ?? Promise.resolve()).then(work, work);
    serial.set(name, next.catch(() => undefined));
    return next;
  };

  const labelFilter = (labels: string[]) => encodeURIComponent(JSON.stringify({ label: labels }));

  const openFor = (id: string) =>
    docker('GET', `/containers/${id}/json`).then(async (answer) => {
      if (answer.status !== 200) return;
      const c = answer.json as RunnerInspect;
      const labels = c.Config.Labels ?? {};
      if (labels[LABEL.dockerInJob] !== 'scoped' || labels[LABEL.deployment] !== s.deploymentId || labels[LABEL.managed] !== 'true') return;
      const runnerName = c.Name.replace(/^\//, '');
      if (!c.State.Running) return;
      await onRunner(runnerName, async () => {
        if (endpoints.has(runnerName)) return;
        const mounts = c.Mounts ?? [];
        const socketDir = mounts.find((m) => m.Destination === JOB_DOCKER_DIR);
        const work = mounts.find((m) => m.Destination === RUNNER_WORK_DIR);
        if (!socketDir) return s.log.warn({ runner: runnerName }, `a scoped runner without a volume at ${JOB_DOCKER_DIR}: no endpoint`);
        const scope: JobScope = {
          deploymentId: s.deploymentId,
          runnerName,
          network: c.HostConfig.NetworkMode ?? 'none',
          limits: { nanoCpus: c.HostConfig.NanoCpus ?? 0, memoryBytes: c.HostConfig.Memory ?? 0, pidsLimit: c.HostConfig.PidsLimit ?? 0 },
          workDirs: work ? [{ runnerPath: RUNNER_WORK_DIR, hostPath: work.Source }] : [],
          protectedImages: s.protectedImages,
        };
        const endpoint = createJobEndpoint({ scope, dockerSocket: s.dockerSocket, socketPath: `${socketDir.Source}/docker.sock`, log: s.log, onRefuse: (what, reason) => s.onRefuse?.(runnerName, what, reason) });
        await endpoint.listen();
        endpoints.set(runnerName, endpoint);
        s.log.info({ runner: runnerName, network: scope.network }, 'job endpoint open');
      });
    });

  const closeFor = (runnerName: string) =>
    onRunner(runnerName, async () => {
      const endpoint = endpoints.get(runnerName);
      endpoints.delete(runnerName);
      await endpoint?.close();
      const report = await cleanUp(runnerName);
      s.log.info({ runner: runnerName, ...report }, 'job endpoint closed; what the job made is removed');
    });

  async function cleanUp(runnerName: string): Promise<CleanUpReport> {
    const filter = labelFilter([`${JOB_LABEL.of}=${runnerName}`, `${JOB_LABEL.deployment}=${s.deploymentId}`]);
    const report: CleanUpReport = { containers: 0, networks: 0, volumes: 0, images: 0 };
    const containers = await docker('GET', `/containers/json?all=1&filters=${filter}`);
    for (const c of (containers.json as Array<{ Id: string }>) ?? []) {
      const r = await docker('DELETE', `/containers/${c.Id}?force=1&v=1`);
      if (r.status < 300 || r.status === 404) report.containers++;
    }
    const networks = await docker('GET', `/networks?filters=${filter}`);
    for (const n of (networks.json as Array<{ Id: string }>) ?? []) {
      const r = await docker('DELETE', `/networks/${n.Id}`);
      if (r.status < 300 || r.status === 404) report.networks++;
    }
    const volumes = await docker('GET', `/volumes?filters=${filter}`);
    const names = ((volumes.json as { Volumes?: Array<{ Name: string }> })?.Volumes ?? []).map((v) => v.Name);
    const runner = await docker('GET', `/containers/${encodeURIComponent(runnerName)}/json`);
    // The runner's own docker and work volumes go once the runner is gone (the executor removes runners, not named volumes).
    if (runner.status === 404) {
      const own = jobDockerVolumes(runnerName);
      names.push(own.docker, own.work);
    }
    for (const name of names) {
      const r = await docker('DELETE', `/volumes/${encodeURIComponent(name)}?force=1`);
      if (r.status < 300) report.volumes++;
    }
    const images = await docker('GET', `/images/json?filters=${filter}`);
    for (const i of (images.json as Array<{ Id: string }>) ?? []) {
      const r = await docker('DELETE', `/images/${i.Id}?force=1`);
      if (r.status < 300 || r.status === 404) report.images++;
    }
    return report;
  }

  /** Everything labelled as a job's whose runner no longer runs; endpoints for scoped runners that run without one. */
  async function sweep(): Promise<void> {
    const scoped = await docker('GET', `/containers/json?filters=${labelFilter([`${LABEL.dockerInJob}=scoped`, `${LABEL.deployment}=${s.deploymentId}`])}`);
    const running = new Set<string>();
    for (const c of (scoped.json as Array<{ Id: string; Names: string[] }>) ?? []) {
      running.add(c.Names[0]!.replace(/^\//, ''));
      if (!endpoints.has(c.Names[0]!.replace(/^\//, ''))) await openFor(c.Id);
    }
    const owners = new Set<string>();
    const filter = labelFilter([`${JOB_LABEL.deployment}=${s.deploymentId}`]);
    for (const kind of ['containers/json?all=1&', 'networks?', 'images/json?'] as const) {
      const list = await docker('GET', `/${kind}filters=${filter}`);
      for (const o of (list.json as Array<{ Labels?: Record<string, string> }>) ?? []) if (o.Labels?.[JOB_LABEL.of]) owners.add(o.Labels[JOB_LABEL.of]!);
    }
    const volumes = await docker('GET', `/volumes?filters=${filter}`);
    for (const v of (volumes.json as { Volumes?: Array<{ Labels?: Record<string, string> }> })?.Volumes ?? []) if (v.Labels?.[JOB_LABEL.of]) owners.add(v.Labels[JOB_LABEL.of]!);
    for (const name of endpoints.keys()) if (!running.has(name)) owners.add(name);
    for (const owner of owners) if (!running.has(owner)) await closeFor(owner);
  }

  const watch = () => {
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: ['start', 'die', 'destroy'], label: [`${LABEL.dockerInJob}=scoped`, `${LABEL.deployment}=${s.deploymentId}`] }));
    const req = httpRequest({ socketPath: s.dockerSocket, path: `/events?filters=${filters}`, headers: { host: 'docker' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (!line.trim()) continue;
          const event = JSON.parse(line) as { status?: string; Action?: string; id: string; Actor?: { Attributes?: Record<string, string> } };
          const action = event.Action ?? event.status;
          const name = event.Actor?.Attributes?.['name'] ?? '';
          const done = action === 'start' ? openFor(event.id) : closeFor(name);
          done.catch((error: unknown) => s.log.warn({ err: String(error), runner: name, action }, 'job endpoint event not handled'));
        }
      });
      res.on('end', () => {
        if (!stopped) setTimeout(watch, 1000);
      });
    });
    req.on('error', (error) => {
      s.log.warn({ err: String(error) }, 'Docker event feed lost; retrying');
      if (!stopped) setTimeout(watch, 1000);
    });
    req.end();
    events = req;
  };

  return {
    async start() {
      watch();
      await sweep();
      timer = setInterval(() => void sweep().catch((error: unknown) => s.log.warn({ err: String(error) }, 'job endpoint sweep failed')), s.sweepEveryMs ?? 60_000);
      timer.unref();
    },
    async stop() {
      stopped = true;
      events?.destroy();
      if (timer) clearInterval(timer);
      for (const endpoint of endpoints.values()) await endpoint.close();
      endpoints.clear();
    },
    open: () => endpoints,
    cleanUp,
    sweep,
  };
}
