import {
  create,
  timestampNow,
  type CreateRunnerCommand,
  DockerInJobMode,
  NetworkMode,
  PullPolicy,
  RunnerFailedSchema,
  RunnerFailureReason,
  RunnerStartedSchema,
  type RemoveRunnerCommand,
  type RunnerRef,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { ContainerSpecError, dockerStatus, isOwnedBy, JIT_DIR, jitArchive, LABEL, ownershipLabels, planRunnerContainer, type HostCapabilities, type SpecFinding } from '@runnerhub/docker';
import type { Logger, Publisher } from '@runnerhub/platform';
import type Docker from 'dockerode';
import type { NetworkStock } from './network-stock.js';

/**
 * Create and remove runner containers, idempotently: the container name is the runner name, so a
 * redelivered command finds what the first delivery made and finishes the job instead of making a
 * second one. Problems no retry can fix become `runner.failed` with the reason; Docker being away
 * is thrown, so the command is retried.
 */

export interface RunnerContainerDeps {
  docker: Docker;
  publisher: Publisher<SubjectMessages>;
  host: string;
  deploymentId: string;
  runnerUid: number;
  /** A secret pools may hand to runners, or undefined when it is not allowlisted. */
  runnerSecret(name: string): string | undefined;
  /** Networks made ahead for runners that get their own. */
  networks?: NetworkStock;
  /** What this host can enforce and run: the spec is planned for it (libs/docker planRunnerContainer). */
  capabilities(): Promise<HostCapabilities>;
  /** Seconds each step of a create took (runnerhub_executor_create_step_seconds). */
  observeStep?(step: CreateStep, seconds: number): void;
  log: Logger;
}

/** The steps of a create, in order; a slow cold start shows which one took the time. */
export type CreateStep = 'lookup' | 'image' | 'network' | 'create' | 'archive' | 'start' | 'report';

/** A failure to report as `runner.failed` (and ack), not to retry. */
class RunnerFailure extends Error {
  constructor(
    readonly reason: RunnerFailureReason,
    message: string,
  ) {
    super(message);
  }
}

export async function createRunner(command: CreateRunnerCommand, deps: RunnerContainerDeps): Promise<void> {
  const runner = command.runner;
  if (!runner?.runnerName || !runner.runnerId) throw new RunnerFailure(RunnerFailureReason.CONTAINER_CREATE, 'the command names no runner');
  // Per step, in the log line and the histogram: where a slow cold start went on this host.
  const steps: Partial<Record<CreateStep, number>> = {};
  let mark = performance.now();
  const step = (name: CreateStep) => {
    const at = performance.now();
    steps[name] = Math.round(at - mark);
    deps.observeStep?.(name, (at - mark) / 1000);
    mark = at;
  };
  try {
    const { container, status } = await existingOrCreated(command, runner, deps, step);
    if (status === 'created') {
      // The JIT file goes in before start; writing it again after a crash mid-way is harmless.
      await container.putArchive(await jitArchive(command.jitConfig, { uid: deps.runnerUid, gid: deps.runnerUid }), { path: JIT_DIR });
      step('archive');
      await container.start().catch((error: unknown) => {
        if (dockerStatus(error) === 304) return; // already started
        throw new RunnerFailure(RunnerFailureReason.CONTAINER_START, `docker could not start the container: ${messageOf(error)}`);
      });
      step('start');
    }
    await deps.publisher.publish(
      'runner.started',
      create(RunnerStartedSchema, { runner, containerId: container.id, image: command.image, startedAt: timestampNow() }),
      { msgId: `runner:${runner.runnerId}:started` },
    );
    step('report');
    deps.log.info({ runner: runner.runnerName, container: container.id.slice(0, 12), image: command.image, ms: steps }, 'runner container started');
  } catch (error) {
    if (!(error instanceof RunnerFailure)) throw error;
    deps.log.warn({ runner: runner.runnerName, reason: RunnerFailureReason[error.reason], err: error.message }, 'runner container failed');
    await deps.publisher.publish(
      'runner.failed',
      create(RunnerFailedSchema, { runner, reason: error.reason, message: error.message, failedAt: timestampNow() }),
      { msgId: `runner:${runner.runnerId}:failed` },
    );
  }
}

async function existingOrCreated(
  command: CreateRunnerCommand,
  runner: RunnerRef,
  deps: RunnerContainerDeps,
  step: (name: CreateStep) => void,
): Promise<{ container: Docker.Container; status: string }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await inspectByName(deps.docker, runner.runnerName);
    step('lookup');
    if (existing) {
      if (!isOwnedBy(existing.Config.Labels, deps.deploymentId) || existing.Config.Labels[LABEL.runnerId] !== runner.runnerId) {
        throw new RunnerFailure(RunnerFailureReason.CONTAINER_CREATE, `a container named ${runner.runnerName} exists and is not this runner's`);
      }
      return { container: deps.docker.getContainer(existing.Id), status: existing.State.Status };
    }
    await ensureImage(deps, command.image, command.pullPolicy);
    step('image');
    const network = await ensureNetwork(command, runner, deps);
    step('network');
    const spec = specFor(command, runner, network, deps, await deps.capabilities());
    try {
      const container = await deps.docker.createContainer(spec);
      step('create');
      return { container, status: 'created' };
    } catch (error) {
      // Another delivery of this command created it between our look and our create.
      if (dockerStatus(error) === 409) continue;
      if (dockerStatus(error) !== undefined && dockerStatus(error)! < 500) {
        throw new RunnerFailure(RunnerFailureReason.CONTAINER_CREATE, `docker refused the container: ${messageOf(error)}`);
      }
      throw error;
    }
  }
  throw new Error(`container ${runner.runnerName} kept conflicting on create`);
}

/** Findings already logged, by pool and code: a pool's `cpus as a weight` is said once, not per runner. */
const toldFindings = new Set<string>();

function tell(deps: RunnerContainerDeps, pool: string, findings: readonly SpecFinding[]): void {
  for (const finding of findings) {
    const key = `${pool}:${finding.code}`;
    if (toldFindings.has(key)) continue;
    toldFindings.add(key);
    deps.log[finding.level === 'warning' ? 'warn' : 'info']({ pool, host: deps.host, finding: finding.code, fix: finding.fix }, finding.message);
  }
}

/**
 * The spec for this host: a limit its kernel cannot enforce is left out or made a weight (and said
 * once per pool); what it cannot run at all (sysbox without sysbox-runc) never reaches Docker and
 * fails the runner with the reason.
 */
function specFor(command: CreateRunnerCommand, runner: RunnerRef, network: { name: string; own: boolean }, deps: RunnerContainerDeps, host: HostCapabilities): Docker.ContainerCreateOptions {
  const env: Record<string, string> = { ...command.env };
  for (const [variable, secretName] of Object.entries(command.secretEnv)) {
    const value = deps.runnerSecret(secretName);
    if (value === undefined) {
      throw new RunnerFailure(RunnerFailureReason.CONTAINER_CREATE, `secret ${secretName} (for ${variable}) is not in EXECUTOR_RUNNER_SECRETS on host ${deps.host}`);
    }
    env[variable] = value;
  }
  try {
    const plan = planRunnerContainer({
      deploymentId: deps.deploymentId,
      host: deps.host,
      pool: runner.pool,
      runnerId: runner.runnerId,
      runnerName: runner.runnerName,
      jobId: String(command.forJobId),
      image: command.image,
      command: command.command.length > 0 ? command.command : ['/home/runner/run.sh'],
      env,
      cpus: command.limits?.cpus ?? 0,
      memoryBytes: Number(command.limits?.memoryBytes ?? 0n),
      pidsLimit: command.limits?.pidsLimit ?? 0,
      cacheVolumes: command.cacheVolumes.map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: v.readOnly })),
      networkName: network.name,
      ownNetwork: network.own,
      dockerInJob: command.dockerInJob === DockerInJobMode.SYSBOX ? 'sysbox' : command.dockerInJob === DockerInJobMode.SCOPED ? 'scoped' : 'none',
      readOnlyRoot: command.readOnlyRoot,
      keepAfterExit: command.keepAfterExit,
      maxLifetimeSeconds: command.maxLifetimeSeconds,
      sudo: command.sudo,
    }, { ...host, name: deps.host });
    tell(deps, runner.pool, plan.findings);
    return plan.spec;
  } catch (error) {
    if (error instanceof ContainerSpecError) throw new RunnerFailure(RunnerFailureReason.CONTAINER_CREATE, `the runner spec is refused: ${error.message}`);
    throw error;
  }
}

async function inspectByName(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (error) {
    if (dockerStatus(error) === 404) return undefined;
    throw error;
  }
}

/** Images seen on this host recently: a create need not ask Docker again for each runner. */
const knownImages = new Map<string, number>();
const KNOWN_IMAGE_MS = 60_000;

async function ensureImage(deps: RunnerContainerDeps, image: string, policy: PullPolicy): Promise<void> {
  const { docker, log } = deps;
  if (policy !== PullPolicy.ALWAYS && (knownImages.get(image) ?? 0) > Date.now()) return;
  const present = await docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      (error: unknown) => {
        if (dockerStatus(error) === 404) return false;
        throw error;
      },
    );
  if (policy === PullPolicy.NEVER) {
    if (!present) throw new RunnerFailure(RunnerFailureReason.IMAGE_PULL, `image ${image} is not on host and the pull policy is never`);
    return;
  }
  if (present && policy !== PullPolicy.ALWAYS) {
    knownImages.set(image, Date.now() + KNOWN_IMAGE_MS);
    return;
  }
  log.info({ image }, 'pulling image');
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
    knownImages.set(image, Date.now() + KNOWN_IMAGE_MS);
  } catch (error) {
    if (present) {
      log.warn({ image, err: messageOf(error) }, 'pull failed; using the image already on the host');
      return;
    }
    throw new RunnerFailure(RunnerFailureReason.IMAGE_PULL, `could not pull ${image}: ${messageOf(error)}`);
  }
}

async function ensureNetwork(command: CreateRunnerCommand, runner: RunnerRef, deps: RunnerContainerDeps): Promise<{ name: string; own: boolean }> {
  const own = command.networkMode !== NetworkMode.POOL;
  const name = command.networkName || (own ? runner.runnerName : `rh-${runner.pool}`);
  if (own && !command.networkName) {
    const spare = deps.networks?.take();
    if (spare) return { name: spare, own };
  }
  // A runner's own network is new but for a redelivered command, and creating asks Docker once where
  // looking first asks twice; a shared or named one usually exists.
  if (!own || command.networkName) {
    try {
      await deps.docker.getNetwork(name).inspect();
      return { name, own };
    } catch (error) {
      if (dockerStatus(error) !== 404) throw error;
    }
  }
  try {
    await deps.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: ownershipLabels({ deploymentId: deps.deploymentId, host: deps.host, pool: runner.pool, runnerId: own ? runner.runnerId : '', runnerName: own ? runner.runnerName : '', jobId: '0' }),
    });
  } catch (error) {
    if (dockerStatus(error) === 409) return { name, own };
    // Every bridge network holds one of the daemon's address pools (31 by default, shared with every
    // compose project on the NAS). Retrying the command would hold it for minutes and end in a dead
    // letter; a failed runner names the cause, and the pool backs off and tries again later.
    if (isOutOfAddressPools(error)) {
      throw new RunnerFailure(
        RunnerFailureReason.CONTAINER_CREATE,
        `docker has no address pool left for network ${name} (${messageOf(error)}); free bridge networks, give dockerd more default-address-pools, or set network: pool on the pool (docs/operations.md, "Slow cold starts, and running out of address pools")`,
      );
    }
    throw error;
  }
  return { name, own };
}

/** Stops (gracefully: the runner gets SIGTERM) a container this deployment owns; gone is fine. */
export async function stopRunner(command: RemoveRunnerCommand, deps: RunnerContainerDeps): Promise<string | undefined> {
  const name = command.containerId || command.runner?.runnerName;
  if (!name) return undefined;
  const existing = await inspectByName(deps.docker, name);
  if (!existing) return undefined;
  if (!isOwnedBy(existing.Config.Labels, deps.deploymentId)) {
    deps.log.warn({ container: name }, 'refusing to remove a container this deployment does not own');
    return undefined;
  }
  if (existing.State.Status === 'created') {
    // Never started (the executor stopped between create and start): nothing ran, nothing to report.
    await deps.docker
      .getContainer(existing.Id)
      .remove({ force: true, v: true })
      .catch((error: unknown) => {
        if (dockerStatus(error) !== 404) throw error;
      });
    const network = existing.Config.Labels[LABEL.ownNetwork];
    if (network) await deps.docker.getNetwork(network).remove().catch(() => undefined);
    return undefined;
  }
  if (existing.State.Running) {
    await deps.docker
      .getContainer(existing.Id)
      .stop({ t: 10 })
      .catch((error: unknown) => {
        if (dockerStatus(error) !== 304 && dockerStatus(error) !== 404) throw error;
      });
  }
  return existing.Id;
}

/** Docker's answer when every default address pool is taken (it comes as a 404, "driver not found"). */
function isOutOfAddressPools(error: unknown): boolean {
  return /non-overlapping IPv4 address pool/i.test(messageOf(error));
}

function messageOf(error: unknown): string {
  const json = (error as { json?: { message?: string } } | null)?.json;
  return json?.message ?? (error instanceof Error ? error.message : String(error));
}
