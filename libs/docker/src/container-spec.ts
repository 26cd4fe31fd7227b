import type { ContainerCreateOptions } from 'dockerode';
import type { HostCapabilities } from './host-capabilities.js';
import { JIT_DIR, wrapCommand } from './jit-delivery.js';
import { LABEL, ownershipLabels, type Ownership } from './labels.js';

/**
 * The one place a runner request becomes a Docker container spec, from a fixed template: whatever
 * a pool asks for, the container is never privileged, keeps no capabilities (a `sudo` pool keeps
 * only SUDO_CAPABILITIES and may gain privileges through sudo), mounts no host path and never the
 * Docker socket, has the limits its host can enforce, no restart policy and bounded logs. The socket
 * proxy cannot look into request bodies; this function is the check.
 *
 * The spec follows the host (HostCapabilities): a limit the kernel cannot enforce is left out, or
 * made a weight, and each such change comes back as a SpecFinding the caller reports (`why`, logs,
 * doctor), instead of Docker refusing the container.
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
  /** none: no Docker; sysbox: an inner daemon (sysbox-runc); scoped: the job-scoped endpoint of the host's socket guard (docs/security.md). */
  dockerInJob: 'none' | 'sysbox' | 'scoped';
  readOnlyRoot: boolean;
  /** The network is this runner's alone and goes with it. */
  ownNetwork?: boolean;
  keepAfterExit?: boolean;
  /** 0: no limit. */
  maxLifetimeSeconds?: number;
  /**
   * The pool's privileged-steps choice (docs/pools.md#sudo): keep SUDO_CAPABILITIES and let the
   * image's setuid sudo work (no `no-new-privileges`). Default false.
   */
  sudo?: boolean;
}

/**
 * What sudo needs, measured with Debian's sudo 1.9 in the stand-in runner image under this spec
 * (libs/docker/test/sudo.test.ts takes each away alone): SETUID and SETGID for sudo to become root
 * at all ("unable to change to root gid" without), AUDIT_WRITE or every call prints "unable to
 * send audit message"; then what root needs for the steps people run with sudo (`sudo apt-get
 * install` writes and chowns files): CHOWN to give files owners, DAC_OVERRIDE to write where only
 * their owner may, FOWNER to change modes of files it does not own, FSETID to keep set-id bits.
 * Still dropped: everything else, among Docker's defaults NET_RAW, NET_BIND_SERVICE, MKNOD, KILL,
 * SETPCAP, SETFCAP and SYS_CHROOT; nothing beyond Docker's default set is ever added.
 */
export const SUDO_CAPABILITIES = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETGID', 'SETUID'] as const;

/** How a spec departs from what the pool asked for, because of its host. */
export type SpecFindingCode = 'cpus-as-weight' | 'cpus-unlimited' | 'pids-unlimited' | 'memory-unlimited' | 'swap-unlimited' | 'cgroup-v1';

export interface SpecFinding {
  code: SpecFindingCode;
  level: 'info' | 'warning';
  /** What changed, naming the pool's setting and the host's missing capability. */
  message: string;
  /** What the owner of the host can do about it. */
  fix: string;
}

export interface RunnerContainerPlan {
  spec: ContainerCreateOptions;
  findings: SpecFinding[];
}

/**
 * The host a spec is made for when the caller knows nothing of it: everything enforceable, as on
 * a current Linux with cgroup v2. Callers with a real host pass its HostCapabilities.
 */
export const CAPABLE_HOST: Readonly<Pick<HostCapabilities, 'cpuCfsQuota' | 'cpuCfsPeriod' | 'cpuShares' | 'pidsLimit' | 'memoryLimit' | 'swapLimit' | 'cgroupVersion'>> = {
  cpuCfsQuota: true,
  cpuCfsPeriod: true,
  cpuShares: true,
  pidsLimit: true,
  memoryLimit: true,
  swapLimit: true,
  cgroupVersion: '2',
};

/** What the spec reads of a host; without `runtimes` a runtime is not checked (Docker will say). */
export type SpecHost = Pick<HostCapabilities, keyof typeof CAPABLE_HOST> & { name?: string; runtimes?: readonly string[] };

/** Docker's weight for one CPU's worth of shares (`--cpu-shares` default). */
const SHARES_PER_CPU = 1024;

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

/** CPU, memory, swap and pids settings the host can enforce, and what had to change. */
function limitsFor(request: RunnerContainerRequest, host: SpecHost): { limits: Record<string, number>; findings: SpecFinding[] } {
  const limits: Record<string, number> = {};
  const findings: SpecFinding[] = [];
  const on = host.name ? ` on host ${host.name}` : '';
  const who = host.name ? `host ${host.name}` : 'this host';
  if (host.cpuCfsQuota && host.cpuCfsPeriod) {
    limits['NanoCpus'] = Math.round(request.cpus * 1e9);
  } else if (host.cpuShares) {
    limits['CpuShares'] = Math.min(262_144, Math.max(2, Math.round(request.cpus * SHARES_PER_CPU)));
    findings.push({
      code: 'cpus-as-weight',
      level: 'warning',
      message: `cpus ${request.cpus} of pool ${request.pool} is a weight${on}, not a cap: the kernel has no CFS quota (docker info: CpuCfsQuota false), so a job may use every idle core and shares them by weight (CpuShares ${limits['CpuShares']}) when they are busy`,
      fix: 'nothing to do for jobs to run; to cap CPU, run the runners on a host whose kernel has CFS bandwidth control (CONFIG_CFS_BANDWIDTH), and size the pool max to the cores you can give',
    });
  } else {
    findings.push({
      code: 'cpus-unlimited',
      level: 'warning',
      message: `cpus ${request.cpus} of pool ${request.pool} is not applied${on}: the kernel has neither CFS quota nor CPU shares`,
      fix: 'enable the cpu cgroup controller on the host, or limit concurrency with the pool max',
    });
  }
  if (host.memoryLimit) {
    limits['Memory'] = Math.floor(request.memoryBytes);
    // Equal to Memory: no swap, so a runaway job is OOM-killed instead of thrashing the NAS.
    if (host.swapLimit) limits['MemorySwap'] = limits['Memory'];
    else {
      findings.push({
        code: 'swap-unlimited',
        level: 'info',
        message: `memoryMb of pool ${request.pool} limits memory without swap${on}: the kernel has no swap accounting, so a job may swap beyond it`,
        fix: 'enable swap accounting (cgroup v2, or swapaccount=1 on the kernel command line with cgroup v1), or turn swap off on the host',
      });
    }
  } else {
    findings.push({
      code: 'memory-unlimited',
      level: 'warning',
      message: `memoryMb of pool ${request.pool} is not applied${on}: the kernel has no memory cgroup, so a job may use all of the host's memory`,
      fix: 'enable the memory cgroup (on Raspberry Pi OS: add cgroup_enable=memory to /boot/firmware/cmdline.txt and reboot)',
    });
  }
  if (host.pidsLimit) limits['PidsLimit'] = request.pidsLimit;
  else {
    findings.push({
      code: 'pids-unlimited',
      level: 'warning',
      message: `pids ${request.pidsLimit} of pool ${request.pool} is not applied${on}: the kernel has no pids cgroup, so a fork bomb in a job can exhaust the host's processes`,
      fix: 'use a kernel with the pids controller (CONFIG_CGROUP_PIDS), or keep such pools to trusted repositories',
    });
  }
  if (host.cgroupVersion === '1') {
    findings.push({
      code: 'cgroup-v1',
      level: 'info',
      message: `${who} runs cgroup v1, which Docker has deprecated; the limits above still apply`,
      fix: 'nothing now; a host that can boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1) will keep working with future Docker releases',
    });
  }
  return { limits, findings };
}

/** Where a scoped runner finds its job's Docker endpoint: a directory of its own volume, where the host's socket guard puts the socket. */
export const JOB_DOCKER_DIR = '/opt/runnerhub/docker';
/** The runner's work directory (the stock runner's `_work`): a volume of its own, so that the endpoint can hand its paths to the job's containers (`-v /home/runner/_work:/__w`). */
export const RUNNER_WORK_DIR = '/home/runner/_work';
/** The per-runner volumes of a scoped runner, by runner name; the socket guard removes them with the runner. */
export function jobDockerVolumes(runnerName: string): { docker: string; work: string } {
  return { docker: `${runnerName}-docker`, work: `${runnerName}-work` };
}
/** The docker CLI and the runner read DOCKER_HOST; the classic builder, since the endpoint serves no BuildKit session. */
const JOB_DOCKER_ENV = [`DOCKER_HOST=unix://${JOB_DOCKER_DIR}/docker.sock`, 'DOCKER_BUILDKIT=0'];

function jobDockerMounts(runnerName: string): Array<{ Type: 'volume'; Source: string; Target: string; ReadOnly: boolean }> {
  const v = jobDockerVolumes(runnerName);
  return [
    { Type: 'volume', Source: v.docker, Target: JOB_DOCKER_DIR, ReadOnly: false },
    { Type: 'volume', Source: v.work, Target: RUNNER_WORK_DIR, ReadOnly: false },
  ];
}

/** The spec, for a host that can enforce every limit unless told otherwise. */
export function runnerContainerSpec(request: RunnerContainerRequest, host: SpecHost = CAPABLE_HOST): ContainerCreateOptions {
  return planRunnerContainer(request, host).spec;
}

/** The spec for this host, and each way it departs from the request because of the host. */
export function planRunnerContainer(request: RunnerContainerRequest, host: SpecHost = CAPABLE_HOST): RunnerContainerPlan {
  check(request);
  if (request.dockerInJob === 'sysbox' && host.runtimes && !host.runtimes.includes('sysbox-runc')) {
    throw new ContainerSpecError('dockerInJob', `sysbox needs the sysbox-runc runtime, which ${host.name ? `host ${host.name}` : 'this host'} does not have (it has ${host.runtimes.join(', ') || 'none'})`);
  }
  const memory = Math.floor(request.memoryBytes);
  const { limits, findings } = limitsFor(request, host);
  const sudo = request.sudo === true;
  const scoped = request.dockerInJob === 'scoped';
  const spec: ContainerCreateOptions = {
    name: request.runnerName,
    Image: request.image,
    Cmd: wrapCommand(request.command),
    Env: [...Object.entries(request.env).map(([k, v]) => `${k}=${v}`), ...(scoped ? JOB_DOCKER_ENV : [])],
    Labels: {
      ...ownershipLabels(request),
      [LABEL.cpus]: String(request.cpus),
      [LABEL.memoryBytes]: String(memory),
      [LABEL.keepAfterExit]: String(request.keepAfterExit ?? false),
      [LABEL.ownNetwork]: request.ownNetwork ? request.networkName : '',
      [LABEL.maxLifetimeSeconds]: String(request.maxLifetimeSeconds ?? 0),
      ...(scoped ? { [LABEL.dockerInJob]: 'scoped' } : {}),
    },
    // Anonymous volume for the JIT file: writable before start even on a read-only root, and
    // deleted with the container (remove with v=1).
    Volumes: { [JIT_DIR]: {} },
    HostConfig: {
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: sudo ? [...SUDO_CAPABILITIES] : [],
      // A setuid sudo cannot become root under no-new-privileges: lifted for sudo pools only, and
      // said explicitly, since a daemon run with --no-new-privileges sets it for every container
      // that does not (moby parseSecurityOpt: the container's own choice wins).
      SecurityOpt: sudo ? ['no-new-privileges:false'] : ['no-new-privileges:true'],
      ReadonlyRootfs: request.readOnlyRoot,
      Tmpfs: request.readOnlyRoot ? READ_ONLY_TMPFS : {},
      ...limits,
      Init: true,
      NetworkMode: request.networkName,
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
      LogConfig: { Type: 'json-file', Config: LOG_OPTIONS },
      Binds: [],
      Mounts: [
        ...request.cacheVolumes.map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.mountPath, ReadOnly: v.readOnly })),
        ...(scoped ? jobDockerMounts(request.runnerName) : []),
      ],
      ...(request.dockerInJob === 'sysbox' ? { Runtime: 'sysbox-runc' } : {}),
    },
  };
  return { spec, findings };
}
