import { existsSync, statfsSync } from 'node:fs';
import type Docker from 'dockerode';

/**
 * What one Docker host can enforce and run, read from `GET /info` and `GET /version` (both allowed
 * by the socket proxy). NAS kernels often lack parts of the cgroup machinery that Docker needs for a
 * limit (../../../shared/reference/nas-hosts.md): the container spec reads this to leave out what
 * the host cannot do instead of having Docker refuse the container (`NanoCPUs can not be set`).
 * A field Docker does not report (an old daemon) counts as "cannot": the spec then leaves the limit
 * out and says so, which starts a container where sending the limit might not.
 */

/** GitHub's runner architecture labels (`X64`, `ARM64`, `ARM`); null when Docker reports another. */
export type RunnerArchitecture = 'X64' | 'ARM64' | 'ARM';
/** GitHub's runner OS labels. */
export type RunnerOs = 'Linux' | 'Windows' | 'macOS';

export interface HostCapabilities {
  /** Docker Engine version (`ServerVersion`). */
  dockerVersion: string;
  /** The engine's API version and the oldest it accepts (`/version`), '' when not read. */
  apiVersion: string;
  minApiVersion: string;
  os: RunnerOs | null;
  /** `OperatingSystem` as Docker prints it: "Synology NAS", "Unraid OS 7.0 x86_64", ... */
  operatingSystem: string;
  kernelVersion: string;
  architecture: RunnerArchitecture | null;
  /** `Architecture` as Docker reports it (x86_64, aarch64, armv7l, ...). */
  rawArchitecture: string;
  cpus: number;
  memoryBytes: number;
  /** CFS bandwidth control: without both, `NanoCpus` is refused (HTTP 400). */
  cpuCfsQuota: boolean;
  cpuCfsPeriod: boolean;
  cpuShares: boolean;
  pidsLimit: boolean;
  memoryLimit: boolean;
  /** Swap accounting: without it `MemorySwap` is ignored (memory limited without swap). */
  swapLimit: boolean;
  /** '1' or '2'; '' when Docker does not say (before 20.10, always v1). */
  cgroupVersion: string;
  cgroupDriver: string;
  /** Registered runtimes: runc, sysbox-runc, runsc, kata-runtime, nvidia, ... */
  runtimes: string[];
  defaultRuntime: string;
  storageDriver: string;
  dockerRootDir: string;
  /** Free bytes on the filesystem under `dockerRootDir`, when measured (see freeDiskUnderDockerRoot). */
  freeDiskBytes?: number;
  /** Docker's own warnings (`WARNING: No cpu cfs quota support`, ...). */
  warnings: string[];
  /**
   * `SecurityOptions`: `name=seccomp,profile=builtin`, `name=rootless`, `name=userns`,
   * `name=no-new-privileges` (dockerd --no-new-privileges: the default for every container).
   */
  securityOptions: string[];
}

/** The parts of `GET /info` read here (Docker Engine API SystemInfo). */
export interface DockerInfo {
  ServerVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  KernelVersion?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  CpuCfsQuota?: boolean;
  CpuCfsPeriod?: boolean;
  CPUShares?: boolean;
  PidsLimit?: boolean;
  MemoryLimit?: boolean;
  SwapLimit?: boolean;
  CgroupVersion?: string;
  CgroupDriver?: string;
  Runtimes?: Record<string, unknown> | null;
  DefaultRuntime?: string;
  Driver?: string;
  DockerRootDir?: string;
  Warnings?: string[] | null;
  SecurityOptions?: string[] | null;
}

/** The parts of `GET /version` read here. */
export interface DockerVersion {
  ApiVersion?: string;
  MinAPIVersion?: string;
}

const ARCHITECTURES: Record<string, RunnerArchitecture> = {
  x86_64: 'X64',
  amd64: 'X64',
  aarch64: 'ARM64',
  arm64: 'ARM64',
  armv7l: 'ARM',
  armv7: 'ARM',
  armv6l: 'ARM',
  armhf: 'ARM',
  arm: 'ARM',
};

/** x86_64 → X64, aarch64 → ARM64, armv7l → ARM; anything else (i686, riscv64, s390x) → null. */
export function runnerArchitecture(raw: string): RunnerArchitecture | null {
  return ARCHITECTURES[raw.trim().toLowerCase()] ?? null;
}

function runnerOs(osType: string): RunnerOs | null {
  switch (osType.trim().toLowerCase()) {
    case 'linux':
      return 'Linux';
    case 'windows':
      return 'Windows';
    case 'darwin':
      return 'macOS';
    default:
      return null;
  }
}

/** A pure reading of `/info` (and `/version`): recorded answers of real hosts go through here too. */
export function hostCapabilitiesFrom(info: DockerInfo, version: DockerVersion = {}): HostCapabilities {
  return {
    dockerVersion: info.ServerVersion ?? '',
    apiVersion: version.ApiVersion ?? '',
    minApiVersion: version.MinAPIVersion ?? '',
    os: runnerOs(info.OSType ?? ''),
    operatingSystem: info.OperatingSystem ?? '',
    kernelVersion: info.KernelVersion ?? '',
    architecture: runnerArchitecture(info.Architecture ?? ''),
    rawArchitecture: info.Architecture ?? '',
    cpus: info.NCPU ?? 0,
    memoryBytes: info.MemTotal ?? 0,
    cpuCfsQuota: info.CpuCfsQuota === true,
    cpuCfsPeriod: info.CpuCfsPeriod === true,
    cpuShares: info.CPUShares === true,
    pidsLimit: info.PidsLimit === true,
    memoryLimit: info.MemoryLimit === true,
    swapLimit: info.SwapLimit === true,
    cgroupVersion: info.CgroupVersion ?? '',
    cgroupDriver: info.CgroupDriver ?? '',
    runtimes: Object.keys(info.Runtimes ?? {}).sort(),
    defaultRuntime: info.DefaultRuntime ?? '',
    storageDriver: info.Driver ?? '',
    dockerRootDir: info.DockerRootDir ?? '',
    warnings: [...(info.Warnings ?? [])],
    securityOptions: [...(info.SecurityOptions ?? [])],
  };
}

/** The daemon gives every container no-new-privileges unless the container says otherwise. */
export function daemonNoNewPrivileges(host: Pick<HostCapabilities, 'securityOptions'>): boolean {
  return host.securityOptions.some((o) => o.split(',').includes('name=no-new-privileges'));
}

/** Reads the host through the client (the socket proxy allows `/info` and `/version`). */
export async function readHostCapabilities(docker: Docker, options: { measureDisk?: boolean } = {}): Promise<HostCapabilities> {
  const [info, version] = await Promise.all([docker.info() as Promise<DockerInfo>, docker.version() as Promise<DockerVersion>]);
  const capabilities = hostCapabilitiesFrom(info, version);
  if (options.measureDisk) {
    const free = freeDiskUnderDockerRoot(capabilities);
    if (free !== undefined) capabilities.freeDiskBytes = free;
  }
  return capabilities;
}

/**
 * Free space under Docker's root, which no endpoint the socket proxy allows reports (`/system/df`
 * counts what images and containers use, not what is left, and is denied anyway). Measured from
 * where this process runs, so it holds only when that is the Docker host it drives:
 * - in a container of that host on an overlay2 (or overlay) storage driver, the container's own
 *   root is an overlay whose upper layer lives under Docker's root, so `statfs('/')` is that
 *   filesystem;
 * - outside a container, `statfs(DockerRootDir)` when that folder is visible here.
 * Otherwise undefined: the executor must not report a figure it did not measure.
 */
export function freeDiskUnderDockerRoot(host: Pick<HostCapabilities, 'dockerRootDir' | 'storageDriver'>, where: { inContainer?: boolean } = {}): number | undefined {
  const inContainer = where.inContainer ?? existsSync('/.dockerenv');
  let path: string | undefined;
  if (inContainer) path = /^overlay2?$/.test(host.storageDriver) ? '/' : undefined;
  else path = host.dockerRootDir && existsSync(host.dockerRootDir) ? host.dockerRootDir : undefined;
  if (!path) return undefined;
  try {
    const stats = statfsSync(path);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return undefined;
  }
}
