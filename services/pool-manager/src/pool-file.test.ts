import { describe, expect, it } from 'vitest';
import { PoolScopeKind, PullPolicy } from '@runnerhub/contracts';
import { parsePoolFile, PoolFileError } from './pool-file.js';

describe('parsePoolFile', () => {
  it('reads pools with defaults', () => {
    const [pool] = parsePoolFile(`
pools:
  - name: linux
    repository: acme/app
    labels: [docker]
    image: ghcr.io/actions/actions-runner:latest
    memoryMb: 2048
    pullPolicy: never
`);
    expect(pool).toMatchObject({ name: 'linux', labels: ['docker'], minIdle: 0, maxRunners: 4, pullPolicy: PullPolicy.NEVER, scope: { kind: PoolScopeKind.REPOSITORY, organization: 'acme', repository: 'acme/app' } });
    expect(pool!.limits?.memoryBytes).toBe(2048n * 1024n * 1024n);
    expect(parsePoolFile('')).toEqual([]);
  });

  it('names the pool and the field of every mistake', () => {
    const error = (text: string) => {
      try {
        parsePoolFile(text);
        return 'accepted';
      } catch (e) {
        expect(e).toBeInstanceOf(PoolFileError);
        return (e as Error).message;
      }
    };
    expect(error('pools:\n  - name: Linux\n    org: a\n    labels: [x]\n    image: i')).toMatch(/pools\[0\] \(Linux\)\.name/);
    expect(error('pools:\n  - name: a\n    labels: [x]\n    image: i')).toMatch(/pools\[0\] \(a\): give exactly one of org or repository/);
    expect(error('pools:\n  - name: a\n    org: o\n    labels: [x]\n    image: i\n    minIdle: 5\n    max: 2')).toMatch(/minIdle: 5 is above max 2/);
    expect(error('pools:\n  - name: a\n    org: o\n    labels: [x]\n    image: i\n    cpu: 2')).toMatch(/pools\[0\] \(a\)/);
    expect(error('pools:\n  - name: a\n    org: o\n    labels: [x]\n    image: i\n  - name: a\n    org: o\n    labels: [x]\n    image: i')).toMatch(/declared twice/);
    expect(error('pools: {')).toMatch(/not valid YAML/);
  });
});
