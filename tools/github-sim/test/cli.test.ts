import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@runnerhub/testing';
import { startReceiver, type Receiver } from './helpers.js';

const run = promisify(execFile);
const BIN = new URL('../bin/github-sim.js', import.meta.url).pathname;

describe('github-sim CLI', () => {
  let server: ChildProcess;
  let simUrl = '';
  let receiver: Receiver;
  const appFile = join(mkdtempSync(join(tmpdir(), 'github-sim-')), 'app.json');
  const cli = async (...args: string[]): Promise<unknown> => {
    const { stdout } = await run(process.execPath, [BIN, ...args, '--sim-url', simUrl]);
    return JSON.parse(stdout) as unknown;
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--installation', 'acme:app,web', '--webhook-url', receiver.url, '--app-file', appFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    simUrl = await waitFor(() => /listening on (\S+)/.exec(output)?.[1], { what: 'github-sim serve to print its URL', timeoutMs: 30_000 });
  }, 40_000);

  afterAll(async () => {
    server.kill('SIGTERM');
    await receiver.close();
  });

  it('serves a simulator that the other commands drive', async () => {
    const app = JSON.parse(readFileSync(appFile, 'utf8')) as { id: number; privateKey: string; url: string };
    expect(app.privateKey).toMatch(/BEGIN RSA PRIVATE KEY/);
    expect(app.url).toBe(simUrl);

    const job = (await cli('job', '--repo', 'acme/app', '--labels', 'self-hosted,linux', '--duration', '2s')) as { id: number; durationMs: number };
    expect(job.durationMs).toBe(2000);
    const jobEvents = () => receiver.received.filter((r) => r.headers['x-github-event'] === 'workflow_job');
    await waitFor(() => jobEvents().length === 1, { what: 'the queued webhook' });

    const queued = (await cli('jobs', '--status', 'queued')) as { id: number }[];
    expect(queued.map((j) => j.id)).toEqual([job.id]);
    await cli('clock', '--advance', '25h');
    const after = (await cli('jobs')) as { id: number; status: string; conclusion: string }[];
    expect(after).toEqual([expect.objectContaining({ id: job.id, status: 'completed', conclusion: 'cancelled' })]);
    const deliveries = (await cli('deliveries')) as { action: string; status: string }[];
    await waitFor(() => jobEvents().length === 2, { what: 'the completed webhook' });
    expect(deliveries.map((d) => d.action)).toContain('queued');
  });

  it('makes runner groups and scale sets, lists them, and sets scale-set faults', async () => {
    const group = (await cli('runner-group', '--org', 'acme', '--name', 'gpu')) as { id: number; name: string };
    expect(group.name).toBe('gpu');
    const made = (await cli('scale-set', '--org', 'acme', '--name', 'rh-gpu', '--group-id', String(group.id))) as { id: number; labels: string[] };
    expect(made.labels).toEqual(['rh-gpu']);
    const listed = (await cli('scale-sets')) as { id: number; runnerGroupId: number; session: unknown }[];
    expect(listed).toEqual([expect.objectContaining({ id: made.id, runnerGroupId: group.id, session: null })]);
    expect(await cli('fault', '--drop-acks', '2')).toEqual({});
    expect(await cli('expire-tokens', '--queue')).toEqual({});
    expect(await cli('fault', '--clear')).toEqual({});
  });

  it('exits non-zero with a reason for a bad request', async () => {
    await expect(run(process.execPath, [BIN, 'job', '--repo', 'nobody/none', '--sim-url', simUrl])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/404 repository nobody\/none is not in any installation/) as unknown,
    });
  });
});
