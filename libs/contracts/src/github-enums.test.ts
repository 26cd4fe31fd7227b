import { describe, expect, it } from 'vitest';
import { jobConclusionFromGitHub, jobConclusionWord, jobStatusFromGitHub, jobStatusWord } from './github-enums.js';
import { WorkflowJobConclusion, WorkflowJobStatus } from './gen/runnerhub/v1/github_pb.js';

describe('GitHub job words', () => {
  it('round-trip every status and conclusion GitHub documents', () => {
    for (const w of ['queued', 'waiting', 'in_progress', 'completed', 'pending', 'requested']) expect(jobStatusWord(jobStatusFromGitHub(w))).toBe(w);
    for (const w of ['success', 'failure', 'neutral', 'cancelled', 'skipped', 'timed_out', 'action_required']) expect(jobConclusionWord(jobConclusionFromGitHub(w))).toBe(w);
  });

  it('map words GitHub may add later to UNSPECIFIED, and back to nothing', () => {
    expect(jobStatusFromGitHub('paused')).toBe(WorkflowJobStatus.UNSPECIFIED);
    expect(jobConclusionFromGitHub('')).toBe(WorkflowJobConclusion.UNSPECIFIED);
    expect(jobStatusWord(WorkflowJobStatus.UNSPECIFIED)).toBeUndefined();
    expect(jobConclusionWord(WorkflowJobConclusion.UNSPECIFIED)).toBeUndefined();
  });
});
