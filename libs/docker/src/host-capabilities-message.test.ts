import { fromBinary, HostCapabilitiesSchema, toBinary } from '@runnerhub/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordedHost } from '../test/fixtures.js';
import { hostCapabilitiesFromMessage, hostCapabilitiesToMessage } from './host-capabilities-message.js';
import type { HostCapabilities } from './host-capabilities.js';

describe('host capabilities in the heartbeat', () => {
  it('survive the wire unchanged, recorded hosts and any other', () => {
    const through = (host: HostCapabilities) => hostCapabilitiesFromMessage(fromBinary(HostCapabilitiesSchema, toBinary(HostCapabilitiesSchema, hostCapabilitiesToMessage(host))));
    const synology = recordedHost('synology-dsm72');
    expect(through(synology)).toEqual(synology);
    expect(through({ ...recordedHost('raspberry-pi-os-arm64'), freeDiskBytes: 12_345_678_901 })).toMatchObject({ architecture: 'ARM64', freeDiskBytes: 12_345_678_901 });
    const host = fc.record({
      ...Object.fromEntries(Object.entries(synology).map(([k, v]) => [k, typeof v === 'boolean' ? fc.boolean() : fc.constant(v)])),
      architecture: fc.constantFrom('X64' as const, 'ARM64' as const, 'ARM' as const, null),
      os: fc.constantFrom('Linux' as const, 'Windows' as const, null),
      cpus: fc.integer({ min: 0, max: 512 }),
      memoryBytes: fc.integer({ min: 0, max: 2 ** 50 }),
    }) as fc.Arbitrary<HostCapabilities>;
    fc.assert(
      fc.property(host, (h) => {
        expect(through(h)).toEqual(h);
      }),
    );
  });
});
