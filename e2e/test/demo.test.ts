import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDockerClient, watchLeftovers } from '@runnerhub/docker';
import { DOCKER_PROXY_URL, repoRoot } from '@runnerhub/testing';
import { describe, expect, it } from 'vitest';

// The README's first command, as a newcomer runs it: `DEMO_ONCE=1 make demo` starts the simulator
// and the six services on their usual ports, drives a (small) workload, writes the summary, stops
// what it started and exits 0 only when every job ran and nothing was left behind. It needs the
// ports of `make run` free: stop a running platform (make down) before running this test.

describe('make demo', () => {
  it('runs the workload, explains the unmatched job and the broken pool, and leaves nothing behind', async () => {
    // The demo's runner volumes are followed from before its first container (an earlier run's
    // settings name the deployment; a first run uses the default).
    const env = join(repoRoot, '.run/platform.env');
    const earlier = existsSync(env) ? /^DEPLOYMENT_ID=(.+)$/m.exec(readFileSync(env, 'utf8'))?.[1] : undefined;
    const watch = await watchLeftovers(createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:')), { deployment: earlier ?? 'runnerhub' });
    const child = spawn('bash', ['scripts/demo.sh'], { cwd: repoRoot, env: { ...process.env, DEMO_ONCE: '1', DEMO_JOBS: '4', DEMO_TIMEOUT_SECONDS: '180' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output.slice(-4000)).toBe(0);
    expect(output).toContain('RunnerHub demo: everything worked');
    const summary = JSON.parse(readFileSync(join(repoRoot, '.demo/summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({
      ok: true,
      jobs: { shouldRun: 4, succeeded: 4 },
      leftBehind: { containers: [], volumes: [], githubRunners: [] },
      unmatched: { reason: 'no_pool_matches', checkRun: true },
      broken: { pool: 'broken', lastError: expect.stringContaining('no-such-image') as unknown },
    });
    expect((summary['broken'] as { failedRunners: number }).failedRunners).toBeGreaterThan(0);
    // Everything it started is stopped again, the warm runners (useless without the simulator) too.
    expect(output).toContain('run: stopped');
    const settings = readFileSync(join(repoRoot, '.run/platform.env'), 'utf8');
    const host = /^EXECUTOR_HOST_ID=(.+)$/m.exec(settings)?.[1];
    const deployment = /^DEPLOYMENT_ID=(.+)$/m.exec(settings)?.[1] ?? 'runnerhub';
    expect(host).toBeTruthy();
    const filters = ['--filter', 'label=io.runnerhub.managed=true', '--filter', `label=io.runnerhub.deployment=${deployment}`, '--filter', `label=io.runnerhub.host=${host}`];
    expect(execFileSync('docker', ['ps', '-a', ...filters, '--format', '{{.Names}}']).toString().trim(), 'runner containers left in Docker').toBe('');
    expect(execFileSync('docker', ['network', 'ls', ...filters, '--format', '{{.Name}}']).toString().trim(), 'runner networks left in Docker').toBe('');
    // make down removes the warm runners with their anonymous volumes (docker rm -v).
    const left = await watch.leftovers();
    watch.stop();
    expect(left, 'runner containers, networks or volumes left in Docker').toEqual({ containers: [], networks: [], volumes: [] });
  }, 600_000);
});
