import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baseRequest, poolRequests } from '../test/fixtures.js';
import { ContainerSpecError, runnerContainerSpec, SUDO_CAPABILITIES, type RunnerContainerRequest } from './container-spec.js';
import { JIT_DIR } from './jit-delivery.js';
import { LABEL } from './labels.js';

const base = baseRequest;

describe('runnerContainerSpec', () => {
  it('builds the hardened template with ownership labels and hard limits', () => {
    const spec = runnerContainerSpec(base);
    expect(spec.name).toBe('rh-linux-abc123');
    expect(spec.Labels).toMatchObject({ [LABEL.managed]: 'true', [LABEL.deployment]: 'nas-1', [LABEL.pool]: 'linux', [LABEL.runnerId]: 'r-1' });
    expect(spec.HostConfig).toMatchObject({
      Privileged: false,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Memory: 2 * 1024 ** 3,
      MemorySwap: 2 * 1024 ** 3,
      NanoCpus: 2e9,
      PidsLimit: 2048,
      RestartPolicy: { Name: 'no' },
      Binds: [],
      Mounts: [{ Type: 'volume', Source: 'rh-cache-npm', Target: '/home/runner/.npm', ReadOnly: false }],
    });
    expect(spec.Cmd?.slice(-1)).toEqual(['/home/runner/run.sh']);
    expect(spec.Volumes).toEqual({ [JIT_DIR]: {} });
    expect(spec.HostConfig?.Runtime).toBeUndefined();
  });

  it('uses the sysbox runtime only when the pool asks for it, and still never privileged', () => {
    const spec = runnerContainerSpec({ ...base, dockerInJob: 'sysbox' });
    expect(spec.HostConfig).toMatchObject({ Runtime: 'sysbox-runc', Privileged: false, CapDrop: ['ALL'] });
  });

  it('refuses host paths, the socket, system folders and runner inputs through env, naming the field', () => {
    const bad = (patch: Partial<RunnerContainerRequest>): string => {
      try {
        runnerContainerSpec({ ...base, ...patch });
        return 'accepted';
      } catch (error) {
        expect(error).toBeInstanceOf(ContainerSpecError);
        return (error as ContainerSpecError).field;
      }
    };
    expect(bad({ cacheVolumes: [{ name: '/var/run/docker.sock', mountPath: '/var/run/docker.sock', readOnly: false }] })).toBe('cacheVolumes[0].name');
    expect(bad({ cacheVolumes: [{ name: 'ok', mountPath: '/var/run', readOnly: false }] })).toBe('cacheVolumes[0].mountPath');
    expect(bad({ cacheVolumes: [{ name: 'ok', mountPath: '/', readOnly: false }] })).toBe('cacheVolumes[0].mountPath');
    expect(bad({ cacheVolumes: [{ name: 'ok', mountPath: JIT_DIR, readOnly: false }] })).toBe('cacheVolumes[0].mountPath');
    expect(bad({ env: { ACTIONS_RUNNER_INPUT_JITCONFIG: 'x' } })).toBe('env.ACTIONS_RUNNER_INPUT_JITCONFIG');
    expect(bad({ memoryBytes: 0 })).toBe('memoryBytes');
    expect(bad({ command: [] })).toBe('command');
  });

  it('whatever it is asked, never yields privileges, host binds or capabilities beyond the sudo set (none without sudo)', () => {
    const request = fc
      .tuple(
        poolRequests,
        fc.record({
          env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), fc.string()),
          cacheVolumes: fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), mountPath: fc.string({ maxLength: 30 }), readOnly: fc.boolean() }), { maxLength: 3 }),
        }),
      )
      .map(([limits, rest]) => ({ ...limits, ...rest }));
    fc.assert(
      fc.property(request, (patch) => {
        let spec;
        try {
          spec = runnerContainerSpec({ ...base, ...patch });
        } catch (error) {
          return error instanceof ContainerSpecError;
        }
        const host = spec.HostConfig!;
        const added = (host.CapAdd ?? []) as string[];
        return (
          host.Privileged === false &&
          (host.CapDrop as string[] | undefined)?.join() === 'ALL' &&
          (patch.sudo ? added.every((c) => (SUDO_CAPABILITIES as readonly string[]).includes(c)) : added.length === 0) &&
          (patch.sudo || (host.SecurityOpt as string[]).join() === 'no-new-privileges:true') &&
          host.Binds?.length === 0 &&
          (host.Mounts ?? []).every((m) => m.Type === 'volume' && !m.Source.includes('/') && !m.Target.startsWith('/var/run')) &&
          host.MemorySwap === host.Memory &&
          !(spec.Env ?? []).some((e) => e.startsWith('ACTIONS_RUNNER_INPUT_'))
        );
      }),
    );
  });
});
