import { create, timestampFromMs, timestampNow, RunnerExitedSchema, type SubjectMessages } from '@runnerhub/contracts';
import { deploymentFilter, demuxLogLines, dockerStatus, LABEL } from '@runnerhub/docker';
import { inJobTrace, isJobId, type Logger, type Publisher } from '@runnerhub/platform';
import type Docker from 'dockerode';

/**
 * Notices every runner container that stops, reports it as `runner.exited` (exit code, OOM, CPU
 * seconds, peak memory, and for a failed or early exit the last log lines), then removes it and
 * its own network. Docker's event feed says when; a periodic re-list by label catches what the
 * feed missed (the proxy cuts idle streams, the daemon restarts), so no exit is lost. Running
 * containers are sampled for CPU and memory, and killed past their maximum lifetime.
 */

export interface ExitWatcherDeps {
  docker: Docker;
  publisher: Publisher<SubjectMessages>;
  host: string;
  deploymentId: string;
  earlyExitSeconds: number;
  log: Logger;
  /** Re-list period: the bound on how late a missed event is noticed. */
  reconcileSeconds?: number;
  statsSeconds?: number;
  /** A runner network without its container is removed once older than this. */
  strayNetworkSeconds: number;
  /** Spare networks the stock still holds or just handed out: not stray. */
  spareNetworks?: { holds(name: string): boolean };
  /** The job a runner took, so its exit report joins the job's trace. */
  jobOf?(runnerName: string): bigint | undefined;
  /** The Docker client's idle timeout: a feed quiet this long is dropped by the client and renewed, which is routine. */
  dockerIdleTimeoutMs?: number;
}

export interface ExitWatcher {
  /** Handles one container now (after a stop command); concurrent calls for one container share the work. */
  handleExit(containerId: string): Promise<void>;
  reconcileNow(): Promise<void>;
  stop(): Promise<void>;
}

interface Usage {
  cpuNs: number;
  peakBytes: number;
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  time?: number;
  Actor?: { ID?: string };
}

const LOG_LINES = 50;
/** Bound on one exit report's Docker calls (inspect, logs, removals); ordinary ones take well under a second. */
const REPORT_DEADLINE_MS = 60_000;

export function startExitWatcher(deps: ExitWatcherDeps): ExitWatcher {
  const reconcileMs = (deps.reconcileSeconds ?? 15) * 1000;
  const statsMs = (deps.statsSeconds ?? 5) * 1000;
  const filters = { ...deploymentFilter(deps.deploymentId), label: [...deploymentFilter(deps.deploymentId).label, `${LABEL.host}=${deps.host}`] };
  const handling = new Map<string, Promise<void>>();
  const reportedKept = new Set<string>();
  const usage = new Map<string, Usage>();
  let stopped = false;
  let events: NodeJS.ReadableStream | undefined;
  let lastEventSeconds = Math.floor(Date.now() / 1000);

  const handleExit = (containerId: string): Promise<void> => {
    const running = handling.get(containerId);
    if (running) return running;
    const work = report(containerId).finally(() => handling.delete(containerId));
    handling.set(containerId, work);
    return work;
  };

  async function report(containerId: string): Promise<void> {
    // A Docker call that never answers must not hold this container's handling (and its removal) for
    // good: past the deadline the calls are aborted and the next re-list tries again.
    const abortSignal = AbortSignal.timeout(REPORT_DEADLINE_MS);
    let info: Docker.ContainerInspectInfo;
    try {
      info = await deps.docker.getContainer(containerId).inspect({ abortSignal });
    } catch (error) {
      if (dockerStatus(error) === 404) return; // removed already: reported by whoever removed it
      throw error;
    }
    if (info.State.Running || info.State.Status === 'created' || reportedKept.has(info.Id)) return;
    const labels = info.Config.Labels;
    const startedMs = Date.parse(info.State.StartedAt);
    const finishedMs = Date.parse(info.State.FinishedAt);
    const ranSeconds = Number.isFinite(startedMs) && Number.isFinite(finishedMs) ? (finishedMs - startedMs) / 1000 : 0;
    const exitCode = info.State.ExitCode;
    const oomKilled = info.State.OOMKilled;
    const wantLogs = exitCode !== 0 || oomKilled || ranSeconds < deps.earlyExitSeconds;
    const lastLogLines = wantLogs ? await tailLogs(deps.docker, info.Id, abortSignal) : [];
    const used = usage.get(info.Id);
    const runnerName = labels[LABEL.runnerName] ?? info.Name.replace(/^\//, '');
    const labelledJob = labels[LABEL.jobId];
    const jobId = isJobId(labelledJob) ? labelledJob : deps.jobOf?.(runnerName);
    const traceAttributes = { 'cicd.worker.name': runnerName, 'runnerhub.pool': labels[LABEL.pool] ?? '', 'runnerhub.host': deps.host, 'container.id': info.Id, 'process.exit.code': exitCode };
    await inJobTrace('runner exit', jobId, traceAttributes, () => deps.publisher.publish(
      'runner.exited',
      create(RunnerExitedSchema, {
        runner: { runnerId: labels[LABEL.runnerId] ?? '', runnerName: labels[LABEL.runnerName] ?? info.Name.replace(/^\//, ''), pool: labels[LABEL.pool] ?? '', host: deps.host },
        containerId: info.Id,
        exitCode,
        oomKilled,
        lastLogLines,
        cpuSeconds: used ? used.cpuNs / 1e9 : 0,
        peakMemoryBytes: BigInt(used?.peakBytes ?? 0),
        startedAt: Number.isFinite(startedMs) && startedMs > 0 ? timestampFromMs(startedMs) : undefined,
        exitedAt: Number.isFinite(finishedMs) && finishedMs > 0 ? timestampFromMs(finishedMs) : timestampNow(),
      }),
      { msgId: `runner:${labels[LABEL.runnerId] ?? info.Id}:exited` },
    ));
    usage.delete(info.Id);
    deps.log.info({ runner: labels[LABEL.runnerName], exitCode, oomKilled, ranSeconds }, 'runner container exited');
    if (labels[LABEL.keepAfterExit] === 'true') {
      reportedKept.add(info.Id);
      return;
    }
    await deps.docker
      .getContainer(info.Id)
      .remove({ force: true, v: true, abortSignal })
      .catch((error: unknown) => {
        if (dockerStatus(error) !== 404 && dockerStatus(error) !== 409) throw error;
      });
    const network = labels[LABEL.ownNetwork];
    if (network) {
      await deps.docker
        .getNetwork(network)
        .remove({ abortSignal })
        .catch((error: unknown) => {
          if (dockerStatus(error) !== 404) deps.log.warn({ network, err: String(error) }, 'could not remove the runner network');
        });
    }
  }

  async function reconcileNow(): Promise<void> {
    const containers = await deps.docker.listContainers({ all: true, filters });
    const live = new Set<string>();
    for (const c of containers) {
      live.add(c.Id);
      if (c.State === 'exited' || c.State === 'dead') {
        await handleExit(c.Id).catch((error: unknown) => deps.log.warn({ container: c.Id.slice(0, 12), err: String(error) }, 'exit report failed; retried next pass'));
      } else if (c.State === 'running') {
        const lifetime = Number(c.Labels[LABEL.maxLifetimeSeconds] ?? 0);
        if (lifetime > 0 && Date.now() / 1000 - c.Created > lifetime) {
          deps.log.warn({ runner: c.Labels[LABEL.runnerName], lifetime }, 'runner past its maximum lifetime; stopping it');
          await deps.docker.getContainer(c.Id).stop({ t: 10 }).catch(() => undefined);
        }
      }
    }
    await removeStrayNetworks(new Set(containers.map((c) => c.Labels[LABEL.runnerId] ?? '')), new Set(containers.map((c) => c.Labels[LABEL.ownNetwork] ?? '')));
    for (const id of usage.keys()) if (!live.has(id)) usage.delete(id);
    for (const id of reportedKept) if (!live.has(id)) reportedKept.delete(id);
  }

  /**
   * A runner's own network whose container is gone (the executor died between the two removals, or
   * between creating the network and the container) would otherwise stay forever, and a host has only
   * a few dozen address pools for bridge networks.
   */
  async function removeStrayNetworks(runnersWithContainers: Set<string>, networksOfContainers: Set<string>): Promise<void> {
    const networks = await deps.docker.listNetworks({ filters: { label: [...filters.label] } });
    for (const network of networks) {
      const runnerId = network.Labels?.[LABEL.runnerId];
      const ageMs = Date.now() - Date.parse((network as { Created?: string }).Created ?? '');
      // A create may be between its network and its container right now: leave young networks alone.
      if (!(ageMs > deps.strayNetworkSeconds * 1000)) continue;
      if (network.Labels?.[LABEL.spareNetwork] === 'true') {
        // Made ahead: stray once no container names it and the stock neither holds nor just handed it out.
        if (networksOfContainers.has(network.Name) || deps.spareNetworks?.holds(network.Name)) continue;
      } else if (!runnerId || runnersWithContainers.has(runnerId)) continue;
      await deps.docker
        .getNetwork(network.Id)
        .remove()
        .then(() => deps.log.info({ network: network.Name }, 'stray runner network removed'))
        .catch((error: unknown) => deps.log.debug({ network: network.Name, err: String(error) }, 'stray network not removed'));
    }
  }

  async function sampleStats(): Promise<void> {
    const running = await deps.docker.listContainers({ filters: { ...filters, status: ['running'] } });
    await Promise.all(
      running.map(async (c) => {
        const stats = (await deps.docker.getContainer(c.Id).stats({ stream: false }).catch(() => undefined)) as
          | { cpu_stats?: { cpu_usage?: { total_usage?: number } }; memory_stats?: { usage?: number; max_usage?: number } }
          | undefined;
        if (!stats) return;
        const previous = usage.get(c.Id) ?? { cpuNs: 0, peakBytes: 0 };
        usage.set(c.Id, {
          cpuNs: Math.max(previous.cpuNs, stats.cpu_stats?.cpu_usage?.total_usage ?? 0),
          peakBytes: Math.max(previous.peakBytes, stats.memory_stats?.max_usage ?? 0, stats.memory_stats?.usage ?? 0),
        });
      }),
    );
  }

  async function watchEvents(): Promise<void> {
    while (!stopped) {
      // A feed the client dropped after a quiet spell is routine; anything else is worth a warning.
      let reading = false;
      let lastHeard = Date.now();
      try {
        const stream = await deps.docker.getEvents({
          since: lastEventSeconds,
          filters: { ...filters, type: ['container'], event: ['die', 'oom'] },
        });
        events = stream;
        // Anything that exited while we were not listening.
        await reconcileNow();
        let buffered = '';
        reading = true;
        for await (const chunk of stream) {
          lastHeard = Date.now();
          buffered += chunk.toString();
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (!line) continue;
            const event = JSON.parse(line) as DockerEvent;
            lastEventSeconds = Math.max(lastEventSeconds, (event.time ?? 0) - 1);
            const id = event.Actor?.ID ?? event.id;
            if (id && (event.Action ?? event.status) === 'die') {
              handleExit(id).catch((error: unknown) => deps.log.warn({ container: id.slice(0, 12), err: String(error) }, 'exit report failed; the next re-list retries'));
            }
          }
        }
      } catch (error) {
        const quietMs = Date.now() - lastHeard;
        const idleRenewal = reading && deps.dockerIdleTimeoutMs !== undefined && quietMs >= deps.dockerIdleTimeoutMs * 0.9;
        if (stopped) return;
        if (idleRenewal) deps.log.debug({ quietMs }, 'docker event feed quiet for the idle timeout; renewing it');
        else deps.log.warn({ err: String(error) }, 'docker event feed broke; reconnecting');
      }
      events = undefined;
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  const loop = watchEvents();
  const reconcileTimer = setInterval(() => {
    reconcileNow().catch((error: unknown) => deps.log.warn({ err: String(error) }, 'container re-list failed'));
  }, reconcileMs);
  const statsTimer = setInterval(() => {
    sampleStats().catch((error: unknown) => deps.log.debug({ err: String(error) }, 'stats sample failed'));
  }, statsMs);

  return {
    handleExit,
    reconcileNow,
    async stop() {
      stopped = true;
      clearInterval(reconcileTimer);
      clearInterval(statsTimer);
      (events as { destroy?: () => void } | undefined)?.destroy?.();
      await loop;
      await Promise.allSettled([...handling.values()]);
    },
  };
}

async function tailLogs(docker: Docker, containerId: string, abortSignal: AbortSignal): Promise<string[]> {
  try {
    const buffer = await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: LOG_LINES, follow: false, abortSignal });
    return demuxLogLines(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)), LOG_LINES);
  } catch {
    return [];
  }
}
