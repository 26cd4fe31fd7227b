import { describe, expect, it } from 'vitest';
import { DockerInJobMode, HostRefusalReason, PoolSource } from '@runnerhub/contracts';
import { parsePoolFile, toDefinition } from './pool-file.js';
import { platformNeeds } from './pool-platform.js';

// dockerInJob: none | scoped | sysbox (issue 23): what a pool file says, what reaches the executor,
// and what placement then asks of a host.
const pool = (mode?: string) =>
  toDefinition(parsePoolFile(`pools:\n  - name: d\n    org: o\n    labels: [docker]\n    image: i\n${mode ? `    dockerInJob: ${mode}\n` : ''}`)[0]!, PoolSource.FILE);

describe('dockerInJob in pools.yaml', () => {
  it('is none unless said, and scoped and sysbox reach the pool definition', () => {
    expect(pool().dockerInJob).toBe(DockerInJobMode.NONE);
    expect(pool('none').dockerInJob).toBe(DockerInJobMode.NONE);
    expect(pool('scoped').dockerInJob).toBe(DockerInJobMode.SCOPED);
    expect(pool('sysbox').dockerInJob).toBe(DockerInJobMode.SYSBOX);
  });

  it('refuses any other mode with the field named', () => {
    expect(() => pool('privileged')).toThrow(/dockerInJob/);
    expect(() => pool('dind')).toThrow(/dockerInJob/);
  });

  it('only sysbox needs a runtime of the host (sysbox-runc); scoped runs on any host', () => {
    expect(platformNeeds(pool('sysbox')).runtime).toBe('sysbox-runc');
    expect(platformNeeds(pool('scoped')).runtime).toBeNull();
    expect(platformNeeds(pool()).runtime).toBeNull();
    expect(HostRefusalReason.RUNTIME).toBeDefined();
  });
});
