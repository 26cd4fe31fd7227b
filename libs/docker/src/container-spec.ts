import type { ContainerCreateOptions } from 'dockerode';
import { JIT_DIR, wrapCommand } from './jit-delivery.js';
import { LABEL, ownershipLabels, type Ownership } from './labels.js';

/**
 * The one place a runner request becomes a Docker container spec, from a fixed template: whatever
 * a pool asks for, the container is never privileged, keeps no capabilities, cannot gain
 * privileges, mounts no host path and never the Docker socket, has hard limits, no restart policy
 * and bounded logs. The socket proxy cannot look into request bodies; this function is the check.
 */

export interface CacheVolumeRequest {
  /** A named Docker volume. */
  name: string;
  mountPath: string;
  readOnly: boolean;
}

export interface RunnerContainerRequest extends Ownership {
  image: string;
  command: readonly string[];
  /** Plain variables and resolved secret values. */
  env: Readonly<Record<string, string>>;
  cpus: number;
  memoryBytes: number;
  pidsLimit: number;
  cacheVolumes: readonly CacheVolumeRequest[];
  networkName: string;
  dockerInJob: 'none' | 'sysbox';
  readOnlyRoot: boolean;
  /** The network is this runner's alone and goes with it. */
  ownNetwork?: boolean;
  keepAfterExit?: boolean;
  /** 0: no limit. */
  maxLifetimeSeconds?: number;
}

export class ContainerSpecError extends Error {
  constructor(readonly field: string, problem: string) {
    super(`${field}: ${problem}`);
  }
}

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Paths a cache volume may not cover: the root, system folders, and where the JIT file lives. */
const FORBIDDEN_MOUNTS = ['/', '/proc', '/sys', '/dev', '/etc', '/run', '/var/run', JIT_DIR];
const LOG_OPTIONS = { 'max-size': '10m', 'max-file': '3' };
/** Scratch space on a read-only root. */
const READ_ONLY_TMPFS = { '/tmp': 'rw,nosuid,nodev,size=1g' };

function check(request: RunnerContainerRequest): void {
  if (!request.image) throw new ContainerSpecError('image', 'is required');
  if (request.command.length === 0) throw new ContainerSpecError('command', 'is required (the runner image sets no CMD)');
  if (!(request.cpus > 0)) throw new ContainerSpecError('cpus', 'must be above 0');
  if (!(request.memoryBytes >= 64 * 1024 * 1024)) throw new ContainerSpecError('memoryBytes', 'must be at least 64 MiB');
  if (!(request.pidsLimit >= 16)) throw new ContainerSpecError('pidsLimit', 'must be at least 16');
  if (!request.networkName) throw new ContainerSpecError('networkName', 'is required');
  for (const name of Object.keys(request.env)) {
    if (!ENV_NAME.test(name)) throw new ContainerSpecError(`env.${name}`, 'is not a valid variable name');
    // The JIT config only ever travels as a file; an env var would show in docker inspect.
    if (name.toUpperCase().startsWith('ACTIONS_RUNNER_INPUT_')) throw new ContainerSpecError(`env.${name}`, 'runner inputs may not be set through env');
  }
  for (const [index, volume] of request.cacheVolumes.entries()) {
    if (!VOLUME_NAME.test(volume.name)) throw new ContainerSpecError(`cacheVolumes[${index}].name`, 'must be a Docker volume name, never a path');
    const target = volume.mountPath.replace(/\/+$/, '') || '/';
    if (!target.startsWith('/') || target.includes('..')) throw new ContainerSpecError(`cacheVolumes[${index}].mountPath`, 'must be an absolute path');
    if (FORBIDDEN_MOUNTS.some((p) => target === p || (p !== '/' && target.startsWith(`${p}/`)))) {
      throw new ContainerSpecError(`cacheVolumes[${index}].mountPath`, `may not cover ${target}`);
    }
  }
}

export function runnerContainerSpec(request: RunnerContainerRequest): ContainerCreateOptions {
  check(request);
  const memory = Math.floor(request.memoryBytes);
  return {
    name: request.runnerName,
    Image: request.image,
    Cmd: wrapCommand(request.command),
    Env: Object.entries(request.env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      ...ownershipLabels(request),
      [LABEL.cpus]: String(request.cpus),
      [LABEL.memoryBytes]: String(memory),
      [LABEL.keepAfterExit]: String(request.keepAfterExit ?? false),
      [LABEL.ownNetwork]: request.ownNetwork ? request.networkName : '',
      [LABEL.maxLifetimeSeconds]: String(request.maxLifetimeSeconds ?? 0),
    },
    // Anonymous volume for the JIT file: writable before start even on a read-only root, and
    // deleted with the container (remove with v=1).
    Volumes: { [JIT_DIR]: {} },
    HostConfig: {
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: request.readOnlyRoot,
      Tmpfs: request.readOnlyRoot ? READ_ONLY_TMPFS : {},
      Memory: memory,
      // Equal to Memory: no swap, so a runaway job is OOM-killed instead of thrashing the NAS.
      MemorySwap: memory,
      NanoCpus: Math.round(request.cpus * 1e9),
      PidsLimit: request.pidsLimit,
      Init: true,
      NetworkMode: request.networkName,
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
      LogConfig: { Type: 'json-file', Config: LOG_OPTIONS },
      Binds: [],
      Mounts: request.cacheVolumes.map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.mountPath, ReadOnly: v.readOnly })),
      ...(request.dockerInJob === 'sysbox' ? { Runtime: 'sysbox-runc' } : {}),
    },
  };
}
