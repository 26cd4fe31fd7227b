import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScaleSetMessage, ScaleSetMessageError } from './messages.js';

const statistics = { totalAvailableJobs: 0, totalAcquiredJobs: 0, totalAssignedJobs: 1, totalRunningJobs: 0, totalRegisteredRunners: 1, totalBusyRunners: 0, totalIdleRunners: 1 };
const base = {
  runnerRequestId: 0,
  repositoryName: 'app',
  ownerName: 'acme',
  jobId: '6d1f0a4c-8d9e-4a8b-9a53-2f3c0f5e9b11',
  jobWorkflowRef: 'acme/app/.github/workflows/ci.yml@refs/heads/main',
  jobDisplayName: 'build',
  workflowRunId: 17,
  eventName: 'push',
  requestLabels: ['rh-small'],
  queueTime: '2026-11-24T12:00:00.000Z',
  scaleSetAssignTime: '2026-11-24T12:00:01Z',
  runnerAssignTime: '0001-01-01T00:00:00Z',
  finishTime: '0001-01-01T00:00:00',
};
const envelope = (jobs: unknown, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ messageId: 7, messageType: 'RunnerScaleSetJobMessages', body: typeof jobs === 'string' ? jobs : JSON.stringify(jobs), statistics, ...extra });

describe('parseScaleSetMessage', () => {
  it('decodes the double-encoded body into typed job messages, unset times as undefined', () => {
    const message = parseScaleSetMessage(
      envelope([
        { messageType: 'JobAssigned', ...base },
        { messageType: 'JobCompleted', ...base, runnerId: 3, runnerName: 'rh-1', result: 'canceled', extraField: 'dropped' },
      ]),
    );
    expect(message.messageId).toBe(7);
    expect(message.statistics).toEqual(statistics);
    expect(message.jobs[0]).toMatchObject({ type: 'JobAssigned', jobId: base.jobId, runnerRequestId: 0, queueTime: new Date('2026-11-24T12:00:00Z'), runnerAssignTime: undefined, finishTime: undefined });
    expect(message.jobs[1]).toMatchObject({ type: 'JobCompleted', result: 'canceled', runnerId: 3, runnerName: 'rh-1' });
    expect(message.jobs[1]).not.toHaveProperty('extraField');
    expect(message.jobs[1]).not.toHaveProperty('messageType');
  });

  it('drops a byte order mark before the message and before the body', () => {
    const message = parseScaleSetMessage(`\uFEFF${envelope(`\uFEFF${JSON.stringify([{ messageType: 'JobStarted', ...base, runnerId: 1, runnerName: 'r' }])}`)}`);
    expect(message.jobs.map((j) => j.type)).toEqual(['JobStarted']);
  });

  it('keeps unknown types aside and reports malformed known ones, without throwing', () => {
    const message = parseScaleSetMessage(envelope([{ messageType: 'JobRequeued', whatever: 1 }, { messageType: 'JobStarted', ...base }, { noType: true }, 'text']));
    expect(message.jobs).toEqual([]);
    expect(message.unknown).toEqual([{ messageType: 'JobRequeued', raw: { messageType: 'JobRequeued', whatever: 1 } }]);
    expect(message.invalid).toHaveLength(3);
    expect(message.invalid[0]!.problems.join(' ')).toMatch(/runnerId/);
    expect(parseScaleSetMessage(envelope('not json')).invalid[0]!.problems).toEqual(['body is not a JSON string']);
    expect(parseScaleSetMessage(envelope({ not: 'an array' })).invalid[0]!.problems).toEqual(['body is not a JSON array']);
    expect(parseScaleSetMessage(envelope([], { messageType: 'SomethingElse' })).unknown).toEqual([{ messageType: 'SomethingElse', raw: '[]' }]);
    expect(parseScaleSetMessage(envelope([], { statistics: null })).statistics).toBeUndefined();
  });

  it('throws ScaleSetMessageError only when the message cannot be acknowledged (no messageId)', () => {
    expect(() => parseScaleSetMessage('{')).toThrow(ScaleSetMessageError);
    expect(() => parseScaleSetMessage(JSON.stringify({ messageType: 'RunnerScaleSetJobMessages', body: '[]' }))).toThrow(/messageId/);
  });

  it('never throws anything else, whatever arrives', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseScaleSetMessage(text);
        } catch (error) {
          return error instanceof ScaleSetMessageError;
        }
        return true;
      }),
    );
  });

  it('accounts for every job message of a well-formed envelope exactly once', () => {
    const jobLike = fc.oneof(
      fc.jsonValue(),
      fc.record({ messageType: fc.constantFrom('JobAvailable', 'JobAssigned', 'JobStarted', 'JobCompleted', 'JobNew'), runnerRequestId: fc.integer(), jobId: fc.string() }),
      fc.constant({ messageType: 'JobAssigned', ...base }),
    );
    fc.assert(
      fc.property(fc.array(jobLike, { maxLength: 60 }), (batch) => {
        const message = parseScaleSetMessage(envelope(batch));
        return message.jobs.length + message.unknown.length + message.invalid.length === batch.length;
      }),
    );
  });
});
