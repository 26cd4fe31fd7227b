import { HostRefusalReason } from '@runnerhub/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeRunner, reserve, withOwnRunners, type HostCapacity, type OwnUsage, type RunnerNeeds } from './placement.js';

const GiB = 1024 ** 3;
const host = (name: string, patch: Partial<HostCapacity> = {}): HostCapacity => ({
  host: name,
  healthy: true,
  draining: false,
  labels: {},
  cpus: 4,
  reservedCpus: 1,
  usedCpus: 0,
  memoryBytes: 16 * GiB,
  reservedMemoryBytes: 2 * GiB,
  usedMemoryBytes: 0,
  running: 0,
  maxContainers: 8,
  images: new Set(),
  ...patch,
});
const needs: RunnerNeeds = { cpus: 1, memoryBytes: 2 * GiB, image: 'runner:1', hostSelector: {}, policy: 'pack' };

describe('placeRunner', () => {
  it('prefers a host with the image, then packs or spreads', () => {
    const a = host('a', { usedCpus: 2, usedMemoryBytes: 4 * GiB });
    const b = host('b');
    expect(placeRunner([a, b], needs)).toEqual({ host: 'a' });
    expect(placeRunner([a, b], { ...needs, policy: 'spread' })).toEqual({ host: 'b' });
    expect(placeRunner([a, { ...b, images: new Set(['runner:1']) }], needs)).toEqual({ host: 'b' });
  });

  it('says why nothing fits', () => {
    const placement = placeRunner([host('nas', { usedCpus: 3 }), host('pi', { draining: true }), host('old', { healthy: false })], needs);
    expect(placement.host).toBeNull();
    expect((placement as { reason: string }).reason).toMatch(/nas: needs 1 CPUs, 0.00 free; pi: draining; old: no heartbeat/);
    expect(placeRunner([host('x')], { ...needs, hostSelector: { gpu: 'true' } })).toMatchObject({ host: null, reason: expect.stringMatching(/lacks label gpu=true/) as unknown });
  });

  it('placing runners one after another never exceeds any host budget or container maximum', () => {
    const hostArb = fc.record({
      cpus: fc.integer({ min: 1, max: 16 }),
      reservedCpus: fc.integer({ min: 0, max: 2 }),
      memGiB: fc.integer({ min: 1, max: 64 }),
      reservedGiB: fc.integer({ min: 0, max: 4 }),
      maxContainers: fc.integer({ min: 1, max: 10 }),
      draining: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(hostArb, { minLength: 1, maxLength: 4 }), fc.double({ min: 0.25, max: 4, noNaN: true }), fc.integer({ min: 1, max: 8 }), fc.constantFrom('pack' as const, 'spread' as const), (specs, cpus, memGiB, policy) => {
        let hosts = specs.map((s, i) => host(`h${i}`, { cpus: s.cpus, reservedCpus: s.reservedCpus, memoryBytes: s.memGiB * GiB, reservedMemoryBytes: s.reservedGiB * GiB, maxContainers: s.maxContainers, draining: s.draining }));
        const want: RunnerNeeds = { ...needs, cpus, memoryBytes: memGiB * GiB, policy };
        for (let n = 0; n < 50; n++) {
          const p = placeRunner(hosts, want);
          if (p.host === null) break;
          hosts = hosts.map((h) => (h.host === p.host ? reserve(h, want) : h));
        }
        // Hosts start empty: anything used was placed by us.
        return hosts.every(
          (h) =>
            h.running === 0 ||
            (h.usedCpus <= h.cpus - h.reservedCpus + 1e-9 &&
            h.usedMemoryBytes <= h.memoryBytes - h.reservedMemoryBytes &&
            h.running <= h.maxContainers &&
            !h.draining),
        );
      }),
    );
  });

  it('passes that see a heartbeat older than their own placements still never overfill a host', () => {
    // Each pass places a few runners; the heartbeat only catches up now and then (or never).
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.record({ create: fc.integer({ min: 0, max: 5 }), beat: fc.boolean() }), { minLength: 1, maxLength: 12 }), (maxContainers, passes) => {
        const empty = host('nas', { maxContainers, cpus: 64, memoryBytes: 256 * GiB });
        let heartbeat = empty;
        const own: OwnUsage = { host: 'nas', cpus: 0, memoryBytes: 0, runners: 0 };
        for (const pass of passes) {
          let hosts = withOwnRunners([heartbeat], [own]);
          for (let i = 0; i < pass.create; i++) {
            const p = placeRunner(hosts, needs);
            if (p.host === null) break;
            hosts = hosts.map((h) => reserve(h, needs));
            own.runners += 1;
            own.cpus += needs.cpus;
            own.memoryBytes += needs.memoryBytes;
          }
          if (pass.beat) heartbeat = { ...empty, running: own.runners, usedCpus: own.cpus, usedMemoryBytes: own.memoryBytes };
          if (own.runners > maxContainers) return false;
        }
        return true;
      }),
    );
  });
});

describe('placement by what a host can run', () => {
  const x64 = (name: string, patch: Partial<HostCapacity> = {}) => host(name, { platform: { os: 'Linux', architecture: 'X64' }, runtimes: ['runc'], ...patch });
  const pi = (name: string) => host(name, { platform: { os: 'Linux', architecture: 'ARM64' }, runtimes: ['runc'] });

  it('sends an ARM64 pool only to an ARM64 host, and says which hosts are of another architecture', () => {
    expect(placeRunner([x64('nas1'), pi('pi')], { ...needs, architecture: 'ARM64' })).toEqual({ host: 'pi' });
    const none = placeRunner([x64('nas1'), x64('nas2')], { ...needs, architecture: 'ARM64' });
    expect(none).toMatchObject({ host: null, reason: "no host can run this pool's runners: nas1: is X64, the pool needs ARM64; nas2: is X64, the pool needs ARM64" });
    expect((none as { refusals: unknown[] }).refusals).toEqual([
      { host: 'nas1', reason: HostRefusalReason.ARCHITECTURE, needed: 'ARM64', has: 'X64' },
      { host: 'nas2', reason: HostRefusalReason.ARCHITECTURE, needed: 'ARM64', has: 'X64' },
    ]);
  });

  it('matches architecture names in any case; a host without reported capabilities counts as Linux X64', () => {
    expect(placeRunner([host('old')], { ...needs, architecture: 'x64', os: 'linux' })).toEqual({ host: 'old' });
    expect(placeRunner([host('old')], { ...needs, architecture: 'ARM64' })).toMatchObject({ host: null });
  });

  it('sends a sysbox pool only where sysbox-runc is registered, and names the runtimes a host has', () => {
    const sysbox = x64('nas2', { runtimes: ['runc', 'sysbox-runc'] });
    expect(placeRunner([x64('nas1'), sysbox], { ...needs, runtime: 'sysbox-runc' })).toEqual({ host: 'nas2' });
    expect(placeRunner([x64('nas1')], { ...needs, runtime: 'sysbox-runc' })).toMatchObject({
      host: null,
      refusals: [{ host: 'nas1', reason: HostRefusalReason.RUNTIME, needed: 'sysbox-runc', has: 'runc' }],
    });
  });

  it('a full host of the right architecture is a wait for room, not a missing capability', () => {
    const placement = placeRunner([x64('nas1'), pi('pi')].map((h) => (h.host === 'pi' ? { ...h, usedCpus: 3 } : h)), { ...needs, architecture: 'ARM64' });
    expect(placement).toMatchObject({ host: null, reason: expect.stringMatching(/^no host has room: nas1: is X64, the pool needs ARM64; pi: needs 1 CPUs/) as unknown });
  });

  it('never places a runner on a host of another architecture, OS or without the runtime, whatever the hosts', () => {
    const platform = fc.record({ os: fc.constantFrom('Linux', 'Windows', null), architecture: fc.constantFrom('X64', 'ARM64', 'ARM', null) });
    const hostArb = fc.record({ platform: fc.option(platform, { nil: undefined }), runtimes: fc.option(fc.subarray(['runc', 'sysbox-runc']), { nil: undefined }) });
    const needArb = fc.record({ architecture: fc.constantFrom('X64', 'ARM64', 'ARM', null), os: fc.constantFrom('Linux', null), runtime: fc.constantFrom('sysbox-runc', null) });
    fc.assert(
      fc.property(fc.array(hostArb, { minLength: 1, maxLength: 5 }), needArb, (specs, want) => {
        const hosts = specs.map((s, i) => host(`h${i}`, s));
        const p = placeRunner(hosts, { ...needs, ...want });
        if (p.host === null) return p.refusals.length === hosts.length;
        const chosen = hosts.find((h) => h.host === p.host)!;
        const platformNow = chosen.platform ?? { os: 'Linux', architecture: 'X64' };
        return (
          (!want.architecture || platformNow.architecture === want.architecture) &&
          (!want.os || platformNow.os === want.os) &&
          (!want.runtime || chosen.runtimes === undefined || chosen.runtimes.includes(want.runtime))
        );
      }),
    );
  });
});
