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
