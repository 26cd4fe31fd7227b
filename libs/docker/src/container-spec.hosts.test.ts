import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContainerSpecError, planRunnerContainer, SUDO_CAPABILITIES, type RunnerContainerRequest } from './container-spec.js';
import { baseRequest, poolRequests, recordedHost } from '../test/fixtures.js';
import { hostCapabilitiesFrom, runnerArchitecture } from './host-capabilities.js';

// Recorded `docker info` of real NAS kernels and ARM boards (test/hosts/README.md says where each
// field comes from and which are assumed).
const recorded = recordedHost;
const request: RunnerContainerRequest = { ...baseRequest, env: {}, cacheVolumes: [] };

describe('host capabilities read from docker info', () => {
  it('normalises the architecture to GitHub labels and reads each limit Docker reports', () => {
    expect(['x86_64', 'amd64', 'aarch64', 'arm64', 'armv7l', 'armv6l', 'riscv64', 'i686'].map(runnerArchitecture)).toEqual(['X64', 'X64', 'ARM64', 'ARM64', 'ARM', 'ARM', null, null]);
    const synology = recorded('synology-dsm72');
    expect(synology).toMatchObject({ os: 'Linux', architecture: 'X64', cpuCfsQuota: false, cpuShares: true, pidsLimit: true, cgroupVersion: '1', storageDriver: 'btrfs', operatingSystem: 'Synology NAS' });
    expect(synology.warnings).toContain('WARNING: No cpu cfs quota support');
    expect(recorded('raspberry-pi-os-arm64')).toMatchObject({ architecture: 'ARM64', memoryLimit: false, swapLimit: false, cpuCfsQuota: true, cgroupDriver: 'systemd' });
    expect(recorded('raspbian-armv7')).toMatchObject({ architecture: 'ARM', cgroupVersion: '', warnings: [] });
    expect(recorded('qnap-qts52').runtimes).toContain('kata-runtime');
    expect(recorded('unraid-70').runtimes).toEqual(['io.containerd.runc.v2', 'nvidia', 'runc']);
  });

  it('counts a field an old daemon does not report as a limit it cannot enforce', () => {
    expect(hostCapabilitiesFrom({ ServerVersion: '1.13.1' })).toMatchObject({ cpuCfsQuota: false, pidsLimit: false, memoryLimit: false, swapLimit: false, architecture: null, os: null, runtimes: [] });
  });
});

describe('the runner spec on recorded hosts', () => {
  it('Synology DSM 7.2 (no CFS quota): CPU shares instead of NanoCpus, with a finding that cpus is now a weight', () => {
    const { spec, findings } = planRunnerContainer(request, { ...recorded('synology-dsm72'), name: 'ds920' });
    expect(spec.HostConfig?.NanoCpus).toBeUndefined();
    expect(spec.HostConfig).toMatchObject({ CpuShares: 2048, Memory: 2 * 1024 ** 3, MemorySwap: 2 * 1024 ** 3, PidsLimit: 2048 });
    const cpu = findings.find((f) => f.code === 'cpus-as-weight');
    expect(cpu?.message).toMatch(/cpus 2 of pool linux is a weight on host ds920, not a cap/);
    expect(cpu?.fix).toMatch(/CFS bandwidth/);
    expect(findings.map((f) => f.code).sort()).toEqual(['cgroup-v1', 'cpus-as-weight']);
  });

  it('QNAP QTS 5.2 (cgroup v1, every limit): the full template, one note about cgroup v1', () => {
    const { spec, findings } = planRunnerContainer(request, recorded('qnap-qts52'));
    expect(spec.HostConfig).toMatchObject({ NanoCpus: 2e9, Memory: 2 * 1024 ** 3, MemorySwap: 2 * 1024 ** 3, PidsLimit: 2048 });
    expect(findings.map((f) => f.code)).toEqual(['cgroup-v1']);
  });

  it('Unraid 7.0 (cgroup v2): the full template and no findings; a sysbox pool is refused there, naming the runtimes it has', () => {
    const unraid = { ...recorded('unraid-70'), name: 'tower' };
    const { spec, findings } = planRunnerContainer(request, unraid);
    expect(spec.HostConfig).toMatchObject({ NanoCpus: 2e9, PidsLimit: 2048, MemorySwap: 2 * 1024 ** 3 });
    expect(findings).toEqual([]);
    expect(() => planRunnerContainer({ ...request, dockerInJob: 'sysbox' }, unraid)).toThrow(/sysbox-runc runtime, which host tower does not have \(it has io.containerd.runc.v2, nvidia, runc\)/);
  });

  it('Raspberry Pi OS arm64 without the memory cgroup: no Memory or MemorySwap (Docker would discard them), and a warning with the cmdline fix', () => {
    const { spec, findings } = planRunnerContainer(request, recorded('raspberry-pi-os-arm64'));
    expect(spec.HostConfig?.Memory).toBeUndefined();
    expect(spec.HostConfig?.MemorySwap).toBeUndefined();
    expect(spec.HostConfig).toMatchObject({ NanoCpus: 2e9, PidsLimit: 2048 });
    expect(findings.find((f) => f.code === 'memory-unlimited')?.fix).toMatch(/cgroup_enable=memory/);
  });

  it('Raspbian armv7 (no CFS, no memory cgroup, no cgroup version reported): shares, no memory limit, two warnings', () => {
    const { spec, findings } = planRunnerContainer({ ...request, cpus: 0.5 }, recorded('raspbian-armv7'));
    expect(spec.HostConfig).toMatchObject({ CpuShares: 512, PidsLimit: 2048 });
    expect(findings.filter((f) => f.level === 'warning').map((f) => f.code).sort()).toEqual(['cpus-as-weight', 'memory-unlimited']);
  });

  it('a host with memory but no swap accounting keeps the memory limit and says swap is not capped', () => {
    const { spec, findings } = planRunnerContainer(request, { ...recorded('unraid-70'), swapLimit: false });
    expect(spec.HostConfig).toMatchObject({ Memory: 2 * 1024 ** 3 });
    expect(spec.HostConfig?.MemorySwap).toBeUndefined();
    expect(findings.map((f) => f.code)).toEqual(['swap-unlimited']);
  });

  it('a host without the pids cgroup gets no PidsLimit, and a warning', () => {
    const { spec, findings } = planRunnerContainer(request, { ...recorded('unraid-70'), pidsLimit: false });
    expect(spec.HostConfig?.PidsLimit).toBeUndefined();
    expect(findings).toMatchObject([{ code: 'pids-unlimited', level: 'warning' }]);
  });
});

describe('the sudo choice', () => {
  it('is off by default: no capability, no-new-privileges', () => {
    const { spec } = planRunnerContainer(request);
    expect(spec.HostConfig).toMatchObject({ CapDrop: ['ALL'], CapAdd: [], SecurityOpt: ['no-new-privileges:true'], Privileged: false });
  });

  it('keeps every drop but what sudo and its steps need, and lifts no-new-privileges for that pool only', () => {
    const { spec } = planRunnerContainer({ ...request, sudo: true });
    // Said explicitly: a daemon run with --no-new-privileges would set it on a container that is silent.
    expect(spec.HostConfig).toMatchObject({ CapDrop: ['ALL'], Privileged: false, SecurityOpt: ['no-new-privileges:false'] });
    expect(spec.HostConfig?.CapAdd).toEqual(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETGID', 'SETUID']);
  });
});

describe('whatever a pool asks for on whatever host', () => {
  const host = fc.record({
    cpuCfsQuota: fc.boolean(),
    cpuCfsPeriod: fc.boolean(),
    cpuShares: fc.boolean(),
    pidsLimit: fc.boolean(),
    memoryLimit: fc.boolean(),
    swapLimit: fc.boolean(),
    cgroupVersion: fc.constantFrom('', '1', '2'),
    runtimes: fc.option(fc.subarray(['runc', 'sysbox-runc', 'runsc', 'kata-runtime']), { nil: undefined }),
  });
  const pool = poolRequests;

  it('never yields privileges, never adds a capability beyond the sudo set (none without sudo), and never sends a limit the host cannot enforce', () => {
    fc.assert(
      fc.property(host, pool, (h, patch) => {
        let plan;
        try {
          plan = planRunnerContainer({ ...request, ...patch }, h);
        } catch (error) {
          return error instanceof ContainerSpecError && patch.dockerInJob === 'sysbox' && h.runtimes !== undefined && !h.runtimes.includes('sysbox-runc');
        }
        const c = plan.spec.HostConfig!;
        const added = (c.CapAdd ?? []) as string[];
        const sudo = patch.sudo === true;
        const capsOk = sudo ? added.every((cap) => (SUDO_CAPABILITIES as readonly string[]).includes(cap)) : added.length === 0;
        const nnpOk = sudo ? (c.SecurityOpt as string[]).join() === 'no-new-privileges:false' : (c.SecurityOpt as string[]).join() === 'no-new-privileges:true';
        const limitsOk =
          (c.NanoCpus === undefined || (h.cpuCfsQuota && h.cpuCfsPeriod)) &&
          (c.CpuShares === undefined || h.cpuShares) &&
          (c.PidsLimit === undefined || h.pidsLimit) &&
          (c.Memory === undefined || h.memoryLimit) &&
          (c.MemorySwap === undefined || (h.swapLimit && c.MemorySwap === c.Memory));
        // A limit left out is always said.
        const saidOk = (c.NanoCpus !== undefined || plan.findings.some((f) => f.code.startsWith('cpus-'))) && (c.PidsLimit !== undefined || plan.findings.some((f) => f.code === 'pids-unlimited'));
        return c.Privileged === false && (c.CapDrop as string[]).join() === 'ALL' && capsOk && nnpOk && limitsOk && saidOk && c.Binds?.length === 0;
      }),
    );
  });
});
