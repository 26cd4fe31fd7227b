import { describe, expect, it } from 'vitest';
import { PoolIntake, PoolScopeKind, PoolSource, PullPolicy } from '@runnerhub/contracts';
import { parsePoolFile, PoolFileError, toDefinition } from './pool-file.js';

describe('parsePoolFile', () => {
  it('reads pools with defaults', () => {
    const [spec] = parsePoolFile(`
pools:
  - name: linux
    repository: acme/app
    labels: [docker]
    image: ghcr.io/actions/actions-runner:latest
    memoryMb: 2048
    pullPolicy: never
`);
    const pool = toDefinition(spec!, PoolSource.FILE);
    expect(pool).toMatchObject({ name: 'linux', source: PoolSource.FILE, drained: false, reporting: { checkRuns: true, jobReports: false }, labels: ['docker'], minIdle: 0, maxRunners: 4, pullPolicy: PullPolicy.NEVER, scope: { kind: PoolScopeKind.REPOSITORY, organization: 'acme', repository: 'acme/app' } });
    expect(pool.limits?.memoryBytes).toBe(2048n * 1024n * 1024n);
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
    const pool = 'pools:\n  - name: a\n    org: o\n    labels: [x]\n    image: i\n    max: 3\n    warmSchedules:\n';
    expect(error(`${pool}      - { cron: "0 8 * * 1-5", durationMinutes: 60, minIdle: 2, timezone: Mars/Olympus }`)).toMatch(/warmSchedules\.0: timezone: Mars\/Olympus is not an IANA time zone/);
    expect(error(`${pool}      - { cron: "0 25 * * *", durationMinutes: 60, minIdle: 2 }`)).toMatch(/warmSchedules\.0: cron: "0 25 \* \* \*"/);
    expect(error(`${pool}      - { cron: "0 8 * *", durationMinutes: 60, minIdle: 2 }`)).toMatch(/needs five fields/);
    expect(error(`${pool}      - { cron: "0 8 * * *", durationMinutes: 60, minIdle: 4 }`)).toMatch(/warmSchedules\.0\.minIdle: 4 is above max 3/);
    expect(error(`${pool}      - { cron: "0 8 * * *", minIdle: 1 }`)).toMatch(/warmSchedules\.0\.durationMinutes|warmSchedules.0: /);
  });

  it('reads intake (default webhook) and names the pool and the field of a bad one', () => {
    const [webhook, scaleSet, both] = parsePoolFile(
      'pools:\n  - name: a\n    org: o\n    labels: [x]\n    image: i\n  - name: nat\n    org: o\n    intake: scaleset\n    image: i\n  - name: mixed\n    repository: o/r\n    intake: both\n    image: i\n',
    );
    expect([webhook, scaleSet, both].map((p) => toDefinition(p!, PoolSource.FILE).intake)).toEqual([PoolIntake.WEBHOOK, PoolIntake.SCALE_SET, PoolIntake.BOTH]);
    const error = (text: string) => {
      try {
        parsePoolFile(text);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(error('pools:\n  - name: nat\n    org: o\n    intake: scalesets\n    image: i')).toBe('pools[0] (nat).intake: must be webhook, scaleset or both, not "scalesets"');
    expect(error('pools:\n  - name: nat\n    org: o\n    intake: scaleset\n    labels: [x]\n    image: i')).toMatch(/^pools\[0\] \(nat\)\.labels: a pool with intake scaleset is GitHub's runner scale set nat, which jobs reach by its name alone \(runs-on: nat\)/);
    expect(error('pools:\n  - name: a\n    org: o\n    image: i')).toMatch(/^pools\[0\] \(a\)\.labels: a webhook pool needs at least one label/);
  });

  it('carries warm schedules onto the wire definition in seconds', () => {
    const [spec] = parsePoolFile('pools:\n  - name: a\n    org: o\n    labels: [x]\n    image: i\n    warmSchedules:\n      - { cron: "0 8 * * 1-5", durationMinutes: 600, minIdle: 2, timezone: Europe/Berlin }\n');
    expect(toDefinition(spec!, PoolSource.API).warmSchedules).toEqual([expect.objectContaining({ cron: '0 8 * * 1-5', durationSeconds: 36_000, minIdle: 2, timezone: 'Europe/Berlin' })]);
  });

  it('sudo is off by default, reaches the definition when set, and refuses what cannot work with it', () => {
    const one = (extra: string) => `pools:\n  - { name: p, repository: a/b, labels: [x], image: i${extra} }\n`;
    expect(toDefinition(parsePoolFile(one(''))[0]!, PoolSource.FILE).sudo).toBe(false);
    expect(toDefinition(parsePoolFile(one(', sudo: true'))[0]!, PoolSource.FILE).sudo).toBe(true);
    expect(() => parsePoolFile(one(', sudo: true, readOnlyRoot: true'))).toThrow(/pools\[0\] \(p\)\.sudo: sudo steps .* readOnlyRoot/);
    expect(() => parsePoolFile(one(', sudo: yes-please'))).toThrow(/sudo/);
  });

  it('a pool names at most one architecture and one OS, in any case', () => {
    const labels = (list: string) => `pools:\n  - { name: p, repository: a/b, labels: [${list}], image: i }\n`;
    expect(parsePoolFile(labels('arm64, ARM64, pi'))[0]!.labels).toEqual(['arm64', 'ARM64', 'pi']);
    expect(() => parsePoolFile(labels('x64, arm64'))).toThrow('pools[0] (p).labels: name X64 and ARM64; a runner runs on one architecture (one pool per architecture)');
    expect(() => parsePoolFile(labels('linux, windows'))).toThrow(/name Linux and Windows/);
  });
});
