import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conflictingLabels, labelsMatch, runnerLabels, RUNNER_ARCHITECTURE_LABELS, RUNNER_OS_LABELS } from './runner-labels.js';

const arm64 = { os: 'Linux', architecture: 'ARM64' };
const x64 = { os: 'Linux', architecture: 'X64' };
const label = fc.oneof(
  fc.constantFrom('self-hosted', 'linux', 'Linux', 'x64', 'X64', 'arm64', 'ARM64', 'arm', 'ARM', 'windows', 'macOS', 'gpu', 'docker'),
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/),
);

describe('runnerLabels', () => {
  it('gives self-hosted, the host OS and architecture as GitHub spells them, then the pool labels', () => {
    expect(runnerLabels(arm64, { labels: ['nas', 'docker'] })).toEqual(['self-hosted', 'Linux', 'ARM64', 'nas', 'docker']);
    expect(runnerLabels({ os: 'Linux', architecture: 'ARM' }, { labels: ['pi'] })).toEqual(['self-hosted', 'Linux', 'ARM', 'pi']);
    expect(runnerLabels({ os: 'Linux', architecture: null }, { labels: ['riscv'] })).toEqual(['self-hosted', 'Linux', 'riscv']);
  });

  it('drops duplicates in any case, and pool labels naming another OS or architecture', () => {
    expect(runnerLabels(arm64, { labels: ['Self-Hosted', 'linux', 'x64', 'arm64', 'nas'] })).toEqual(['self-hosted', 'Linux', 'ARM64', 'nas']);
    expect(conflictingLabels(arm64, ['x64', 'X64', 'windows', 'arm', 'nas', 'ARM64'])).toEqual(['x64', 'X64', 'windows', 'arm']);
  });

  it('an arm64 host serves [self-hosted, linux, arm64] and never an x64 job, whatever its pool adds', () => {
    fc.assert(
      fc.property(fc.array(label, { maxLength: 8 }), fc.array(label, { maxLength: 5 }), (poolLabels, jobExtra) => {
        const labels = runnerLabels(arm64, { labels: poolLabels });
        const served = labelsMatch(labels, ['self-hosted', 'linux', 'arm64']);
        const x64Job = labelsMatch(labels, ['x64', ...jobExtra]) || labelsMatch(labels, ['X64']);
        return served && !x64Job;
      }),
    );
  });

  it('carries exactly one OS and one architecture label, the host own, and every non-conflicting pool label', () => {
    const platform = fc.record({ os: fc.constantFrom(...RUNNER_OS_LABELS), architecture: fc.constantFrom(...RUNNER_ARCHITECTURE_LABELS) });
    fc.assert(
      fc.property(platform, fc.array(label, { maxLength: 8 }), (host, poolLabels) => {
        const labels = runnerLabels(host, { labels: poolLabels }).map((l) => l.toLowerCase());
        const arch = RUNNER_ARCHITECTURE_LABELS.filter((a) => labels.includes(a.toLowerCase()));
        const os = RUNNER_OS_LABELS.filter((o) => labels.includes(o.toLowerCase()));
        const keptAll = poolLabels.filter((l) => !conflictingLabels(host, [l]).length).every((l) => labels.includes(l.toLowerCase()));
        return arch.join() === host.architecture && os.join() === host.os && new Set(labels).size === labels.length && keptAll && labels[0] === 'self-hosted';
      }),
    );
  });

  it('x64 hosts keep what the scheduler assumed until now', () => {
    expect(labelsMatch(runnerLabels(x64, { labels: ['warm'] }), ['self-hosted', 'linux', 'x64', 'warm'])).toBe(true);
  });
});
