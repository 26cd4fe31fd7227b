import { execFile, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// What the CLI does without any service: shell completion as bash itself runs it, and following a
// service's log file as make run writes it. tools/cli's e2e test drives the rest against a platform.

const bin = fileURLToPath(new URL('../bin/runnerhub.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'runnerhub-cli-offline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runnerhub complete', () => {
  // `runnerhub` on PATH, as npm links it: the completion script calls it back for every suggestion.
  // Bash with the bash-completion package loaded, as on Debian and most NAS shells that complete at all.
  writeFileSync(join(dir, 'runnerhub'), `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`);
  chmodSync(join(dir, 'runnerhub'), 0o755);
  /** COMPREPLY after bash completes `words` (the last one is being typed). */
  const bashCompletes = async (...words: string[]): Promise<string[]> => {
    const script = join(dir, 'runnerhub.bash');
    writeFileSync(script, (await promisify(execFile)(process.execPath, [bin, 'complete', 'bash'])).stdout);
    const line = ['runnerhub', ...words].map((w) => `'${w}'`).join(' ');
    const { stdout } = await promisify(execFile)(
      'bash',
      ['-c', `source /usr/share/bash-completion/bash_completion; source '${script}'; COMP_WORDS=(${line}); COMP_CWORD=${words.length}; COMP_LINE="${['runnerhub', ...words].join(' ')}"; COMP_POINT=\${#COMP_LINE}; __runnerhub_complete; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { env: { PATH: `${dir}:${process.env['PATH'] ?? ''}`, HOME: dir } },
    );
    return stdout.split('\n').filter(Boolean);
  };

  it('completes commands, subcommands, their options and the service names of logs in bash', async () => {
    expect(await bashCompletes('po')).toEqual(expect.arrayContaining([expect.stringMatching(/^pool/), expect.stringMatching(/^pools/)]));
    expect((await bashCompletes('pool', 'dr')).map((w) => w.split(/\s/)[0])).toEqual(['drain']);
    expect((await bashCompletes('logs', 'sch')).map((w) => w.split(/\s/)[0])).toEqual(['scheduler']);
    expect((await bashCompletes('runners', '--po')).map((w) => w.split(/\s/)[0])).toEqual(['--pool']);
  }, 60_000);

  it('prints a script for zsh and fish too, and refuses a shell it does not know', async () => {
    for (const shell of ['zsh', 'fish']) expect((await promisify(execFile)(process.execPath, [bin, 'complete', shell])).stdout).toContain('runnerhub complete --');
    const refused = await promisify(execFile)(process.execPath, [bin, 'complete', 'tcsh']).then(() => 0, (e: { code: number }) => e.code);
    expect(refused).toBe(2);
  }, 60_000);
});

describe('runnerhub logs --follow', () => {
  it('prints the last lines, then each line as it is written, until Ctrl-C', async () => {
    const logs = join(dir, 'logs');
    const file = join(logs, 'scheduler.log');
    rmSync(logs, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(logs));
    writeFileSync(file, 'old one\nold two\n');
    const child = spawn(process.execPath, [bin, 'logs', 'scheduler', '-f', '-n', '1'], { env: { PATH: process.env['PATH'] ?? '', HOME: dir, RUNNERHUB_LOG_DIR: logs }, cwd: dir });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const until = async (text: string) => {
      for (let i = 0; i < 200 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain(text);
    };
    await until('old two');
    appendFileSync(file, 'new one\nnew t');
    await until('new one');
    appendFileSync(file, 'wo\n');
    await until('new two');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toBe('old two\nnew one\nnew two\n');
  }, 60_000);
});
