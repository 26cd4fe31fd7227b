import { describe, expect, it } from 'vitest';
import { runnerExit } from './runner-exit.js';

const exit = (exitCode: number, lastLogLines: string[] = [], oomKilled = false) => runnerExit({ exitCode, oomKilled, lastLogLines });

describe("a runner container's exit, as actions/runner writes it", () => {
  it('a runner that ran its job or was stopped has finished, whatever run.sh made of the listener code', () => {
    expect(exit(0, ['√ Connected to GitHub', 'Running job: build', "Job build completed with result: Succeeded"])).toEqual({ kind: 'finished', failure: false, message: '' });
    expect(exit(143).kind).toBe('finished');
    expect(exit(137).kind).toBe('finished');
  });

  it('an outdated runner fails with what to do, by exit 7 or by its log line with exit 0', () => {
    const seven = exit(7);
    expect(seven).toMatchObject({ kind: 'version-deprecated', failure: true });
    expect(seven.message).toContain('pullPolicy: always');
    expect(exit(0, ['An error occurred: Runner version v2.311.0 is deprecated and cannot receive messages.']).kind).toBe('version-deprecated');
  });

  it('names a killed-for-memory runner, a missing command, a root image, a reused JIT config and a deleted registration', () => {
    expect(exit(137, [], true).kind).toBe('oom-killed');
    expect(exit(127, ['exec: "/home/runner/run.sh": no such file']).kind).toBe('command-not-found');
    expect(exit(1, ['Must not run with sudo']).kind).toBe('runs-as-root');
    expect(exit(0, ['[2026-12-07 10:00:00Z] A session for this runner already exists: 409']).kind).toBe('session-conflict');
    expect(exit(0, ['Failed to create a session. The runner registration has been deleted from the server, please re-configure.'])).toMatchObject({ kind: 'registration-deleted', failure: false });
  });
});
