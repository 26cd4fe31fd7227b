import { daemonNoNewPrivileges, planRunnerContainer, type HostCapabilities, type SpecFindingCode } from '@runnerhub/docker';
import { runnerLabels } from '@runnerhub/github';
import type { Finding } from './findings.js';

/**
 * What a Docker host's capabilities mean for runners, as findings. The limits come from the same
 * function that makes runner specs (planRunnerContainer), so the doctor says exactly what the
 * executor will do on this host.
 */

/** Docker Engine 20.10 (API 1.41): the oldest the executor's calls are tested against. */
const MIN_API = [1, 41];
const GIB = 1024 ** 3;
const DISK_FAIL_BYTES = 2 * GIB;
const DISK_WARN_BYTES = 10 * GIB;
const MEMORY_WARN_BYTES = 2 * GIB;

const LIMIT_CHECK: Record<SpecFindingCode, string> = {
  'cpus-as-weight': 'docker.cpu',
  'cpus-unlimited': 'docker.cpu',
  'pids-unlimited': 'docker.pids',
  'memory-unlimited': 'docker.memory-limit',
  'swap-unlimited': 'docker.swap',
  'cgroup-v1': 'docker.cgroup',
};

const LIMIT_MESSAGE: Record<SpecFindingCode, string> = {
  'cpus-as-weight': "no CFS quota (CpuCfsQuota false): a pool's cpus becomes a weight (CpuShares), not a cap; runners start, and a job may use every idle core",
  'cpus-unlimited': "no CFS quota and no CPU shares: a pool's cpus is not applied at all",
  'pids-unlimited': "no pids cgroup: a pool's pids limit is not applied; a fork bomb in a job can exhaust the host's processes",
  'memory-unlimited': "no memory cgroup: a pool's memoryMb is not applied; a job may use all of the host's memory",
  'swap-unlimited': 'no swap accounting: memory is limited without swap, a job may swap beyond its memoryMb',
  'cgroup-v1': 'cgroup v1, which Docker has deprecated; limits still apply',
};

function apiAtLeast(version: string, min: number[]): boolean {
  const parts = version.split('.').map(Number);
  return (parts[0] ?? 0) > min[0]! || ((parts[0] ?? 0) === min[0] && (parts[1] ?? 0) >= min[1]!);
}

const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

export function hostFindings(host: HostCapabilities, where: string): Finding[] {
  const findings: Finding[] = [];
  const api = host.apiVersion || 'unknown';
  findings.push(
    host.apiVersion && !apiAtLeast(host.apiVersion, MIN_API)
      ? { check: 'docker.version', level: 'failure', message: `Docker ${host.dockerVersion} (API ${api}) at ${where} is older than Docker 20.10 (API 1.41)`, fix: 'update Docker (on a Synology: Package Center → Container Manager)' }
      : { check: 'docker.version', level: 'ok', message: `Docker ${host.dockerVersion || 'unknown'} (API ${api}) on ${host.operatingSystem || 'an unknown OS'}, kernel ${host.kernelVersion || 'unknown'}, at ${where}` },
  );

  const probe = planRunnerContainer(
    {
      deploymentId: 'doctor',
      host: 'doctor',
      pool: 'any',
      runnerId: 'doctor',
      runnerName: 'doctor',
      jobId: '0',
      image: 'doctor',
      command: ['true'],
      env: {},
      cpus: 1,
      memoryBytes: GIB,
      pidsLimit: 1024,
      cacheVolumes: [],
      networkName: 'none',
      dockerInJob: 'none',
      readOnlyRoot: false,
    },
    host,
  );
  for (const check of new Set(Object.values(LIMIT_CHECK))) {
    const found = probe.findings.filter((f) => LIMIT_CHECK[f.code] === check);
    if (found.length === 0) findings.push({ check, level: 'ok', message: okLimit(check, host) });
    for (const f of found) findings.push({ check, level: f.level === 'warning' ? 'warning' : 'info', message: LIMIT_MESSAGE[f.code], fix: f.fix });
  }

  const labels = runnerLabels(host, { labels: [] });
  if (host.architecture === null) {
    findings.push({
      check: 'docker.architecture',
      level: 'warning',
      message: `architecture ${host.rawArchitecture || 'unknown'} has no GitHub label: runners carry ${labels.join(', ')} and never get a job that names an architecture`,
      fix: 'run the runners on an x64 or arm64 host (the official runner image exists for those two)',
    });
  } else if (host.architecture === 'ARM') {
    findings.push({
      check: 'docker.architecture',
      level: 'warning',
      message: `32-bit ARM (${host.rawArchitecture}): runners carry ${labels.join(', ')}; ghcr.io/actions/actions-runner is published for amd64 and arm64 only`,
      fix: 'use a runner image built for linux/arm/v7, or a 64-bit OS on the board (then it is ARM64)',
    });
  } else {
    findings.push({ check: 'docker.architecture', level: 'ok', message: `${host.rawArchitecture}: runners carry ${labels.join(', ')}` });
  }

  const sysbox = host.runtimes.includes('sysbox-runc');
  findings.push({
    check: 'docker.runtimes',
    level: sysbox ? 'ok' : 'info',
    message: `runtimes ${host.runtimes.join(', ') || 'none'} (default ${host.defaultRuntime || 'unknown'})${sysbox ? '' : ': pools with dockerInJob: sysbox cannot run here'}`,
    ...(sysbox ? {} : { fix: 'install sysbox (https://github.com/nestybox/sysbox) for pools whose jobs run Docker' }),
  });

  findings.push(sudoFinding(host));

  if (host.freeDiskBytes === undefined) {
    findings.push({
      check: 'docker.disk',
      level: 'info',
      message: `free disk under ${host.dockerRootDir || "Docker's root"} not measured: the doctor does not run on that host (the socket proxy does not say)`,
      fix: "run the doctor on the Docker host itself (or in a container there) to see it; or `df -h` Docker's root there",
    });
  } else {
    const level = host.freeDiskBytes < DISK_FAIL_BYTES ? 'failure' : host.freeDiskBytes < DISK_WARN_BYTES ? 'warning' : 'ok';
    findings.push({
      check: 'docker.disk',
      level,
      message: `${gib(host.freeDiskBytes)} free under ${host.dockerRootDir} (${host.storageDriver})`,
      ...(level === 'ok' ? {} : { fix: 'free space on that volume (old images: docker image prune on the host), or move Docker\'s data root to a larger volume; runner images take 1–2 GB each' }),
    });
  }
  findings.push(
    host.memoryBytes < MEMORY_WARN_BYTES
      ? { check: 'docker.memory', level: 'warning', message: `${gib(host.memoryBytes)} of memory, ${host.cpus} CPUs: the platform takes about 0.5 GiB, leaving little for runners`, fix: 'keep pools to one small runner (memoryMb ≤ 512), or add memory' }
      : { check: 'docker.memory', level: 'ok', message: `${gib(host.memoryBytes)} of memory, ${host.cpus} CPUs` },
  );
  if (host.warnings.length > 0) findings.push({ check: 'docker.warnings', level: 'info', message: `Docker says: ${host.warnings.join('; ')}` });
  return findings;
}

function okLimit(check: string, host: HostCapabilities): string {
  switch (check) {
    case 'docker.cpu':
      return "CFS quota and period: a pool's cpus is a hard cap";
    case 'docker.pids':
      return "pids cgroup: a pool's pids limit applies";
    case 'docker.memory-limit':
      return "memory cgroup: a pool's memoryMb applies";
    case 'docker.swap':
      return 'swap accounting: no job swaps beyond its memoryMb';
    default:
      return host.cgroupVersion === '2' ? 'cgroup v2' : `cgroup version not reported by Docker ${host.dockerVersion} (v1 before 20.10)`;
  }
}

/** What a pool's `sudo: true` meets on this daemon (docs/pools.md#sudo). */
export function sudoFinding(host: HostCapabilities): Finding {
  const rootless = host.securityOptions.some((o) => o.split(',').includes('name=rootless'));
  if (daemonNoNewPrivileges(host)) {
    return {
      check: 'docker.sudo',
      level: 'info',
      message: 'dockerd sets no-new-privileges on every container (--no-new-privileges): runners keep it; pools with sudo: true lift it for their own runners (no-new-privileges:false), or sudo could not become root there',
      fix: 'nothing to do for sudo pools; to refuse privileged steps on this host altogether, keep its pools at sudo: false',
    };
  }
  if (rootless) {
    return { check: 'docker.sudo', level: 'info', message: "rootless Docker: sudo in a sudo pool's runner becomes root of the daemon's user namespace, not of the host" };
  }
  return { check: 'docker.sudo', level: 'ok', message: 'pools with sudo: true can run sudo here; others run with no-new-privileges and no capabilities' };
}

