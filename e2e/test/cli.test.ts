import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { waitFor } from '@runnerhub/testing';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGES, SERVICES, startPlatform, type Platform } from '../src/index.js';

// `runnerhub` as a person runs it (the bin, a process per command) and as an assistant runs it
// (`runnerhub mcp` through the SDK's own client), against one whole platform: every command and
// every tool, their output and exit codes, and the errors that tell a person what to do.

const genDir = new URL('../../tools/cli/src/gen/', import.meta.url);
const bin = fileURLToPath(new URL('../../tools/cli/bin/runnerhub.js', import.meta.url));
const EXIT = { ok: 0, unhealthy: 1, usage: 2, unreachable: 3, auth: 4, notFound: 5, refused: 6 };

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('the runnerhub CLI and its MCP tools against the whole platform', () => {
  let platform: Platform;
  // Away from the repository: no .run/runnerhub.env of a `make run` is found.
  const home = mkdtempSync(join(tmpdir(), 'runnerhub-cli-home-'));
  const serviceEnv = (): Record<string, string> =>
    Object.fromEntries(SERVICES.map((s) => [`RUNNERHUB_${s.toUpperCase().replaceAll('-', '_')}_URL`, platform.services[s]!.url]));
  const baseEnv = (): Record<string, string> => ({ PATH: process.env['PATH'] ?? '', HOME: home, ...serviceEnv() });
  const cli = (args: string[], env: Record<string, string> = { RUNNERHUB_TOKEN: platform.token }): Promise<Run> =>
    new Promise((done) => {
      execFile(process.execPath, [bin, ...args], { cwd: home, env: { ...baseEnv(), ...env }, timeout: 120_000 }, (error, out, err) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out, err });
      });
    });
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await cli([...args, '--json']);
    expect(r, `runnerhub ${args.join(' ')} --json`).toMatchObject({ code: EXIT.ok });
    return JSON.parse(r.out) as T;
  };
  type PoolJson = { name: string; drained: boolean; warmNow: number; warm: { min: number; until: string | null } | null; runners: Record<string, number> };
  type RunnerJson = { id: string; name: string; pool: string; state: string };
  const upRunners = async () => (await json<RunnerJson[]>(['runners', '--pool', 'warm'])).filter((r) => ['starting', 'idle'].includes(r.state));

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:
  - name: warm
    repository: acme/app
    labels: [warm]
    image: ${RUNNER_IMAGES.fake}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    minIdle: 1
    max: 3
    idleTimeoutSeconds: 3
`,
    });
  }, 600_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("has client types generated from each service's own /openapi.json (RUNNERHUB_UPDATE_API_TYPES=1 regenerates them)", async () => {
    const stale: string[] = [];
    for (const service of SERVICES) {
      const doc = (await (await fetch(`${platform.services[service]!.url}/openapi.json`)).json()) as Record<string, unknown>;
      delete (doc['info'] as Record<string, unknown>)['version'];
      const text = `// Generated from the ${service}'s /openapi.json by e2e/test/cli.test.ts (RUNNERHUB_UPDATE_API_TYPES=1): do not edit.\n${astToString(await openapiTS(doc as never))}`;
      const file = new URL(`${service}.ts`, genDir);
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // missing: stale
      }
      if (current === text) continue;
      if (process.env.RUNNERHUB_UPDATE_API_TYPES === '1') writeFileSync(file, text);
      else stale.push(service);
    }
    expect(stale, 'the CLI types are stale: run RUNNERHUB_UPDATE_API_TYPES=1 npx vitest run test/cli.test.ts in e2e').toEqual([]);
  });

  it('answers what it is doing: status, pools, hosts, runners, the queue and why a job waits', async () => {
    await waitFor(async () => (await upRunners()).length === 1, { what: 'the warm runner', timeoutMs: 60_000 });
    const job = platform.sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'warm', 'gpu'] });
    await waitFor(async () => (await json<{ jobId: string }[]>(['jobs', '--waiting'])).some((j) => j.jobId === String(job.id)), { what: 'the job in the queue' });

    const status = await cli(['status']);
    expect(status.code).toBe(EXIT.ok);
    expect(status.out).toContain('RunnerHub is healthy');
    for (const s of SERVICES) expect(status.out).toMatch(new RegExp(`${s}\\s+yes`));
    expect(status.out).toContain(platform.host);
    expect(status.out).toMatch(/warm\s+serving/);
    expect(status.out).toMatch(new RegExp(`oldest: job ${job.id} of acme/app .*no pool`));
    expect(status.out).toContain(`runnerhub why ${job.id}`);
    expect(status.out).toContain('dead letters: 0');
    const s = await json<{ healthy: boolean; services: { ready: boolean; version: string }[]; waiting: { count: number; oldest: { reason: string } } }>(['status']);
    expect(s.healthy).toBe(true);
    expect(s.services.map((x) => x.ready)).toEqual(SERVICES.map(() => true));
    expect(s.waiting).toMatchObject({ count: 1, oldest: { reason: 'no_pool_matches' } });

    const waiting = await cli(['jobs', '--waiting']);
    expect(waiting.out).toMatch(new RegExp(`^JOB\\s+REPO.*\\n${job.id}\\s+acme/app`));
    expect((await json<unknown[]>(['jobs', '--repo', 'acme/app'])).length).toBeGreaterThanOrEqual(1);
    expect(await json<unknown[]>(['jobs', '--repo', 'acme/other'])).toEqual([]);
    expect((await cli(['jobs', '--repo', 'not-a-repo'])).code).toBe(EXIT.usage);

    const why = await cli(['why', String(job.id)]);
    expect(why.code).toBe(EXIT.ok);
    expect(why.out).toContain('why: no_pool_matches');
    expect(why.out).toMatch(/warm: missing gpu/);
    expect(await json<{ closestPools: unknown[] }>(['why', String(job.id)])).toMatchObject({ closestPools: [{ pool: 'warm', missing: ['gpu'] }] });
    const unknown = await cli(['why', '123456789012']);
    expect(unknown).toMatchObject({ code: EXIT.notFound, err: expect.stringContaining('no job 123456789012') as unknown });
    expect((await cli(['why', 'abc'])).code).toBe(EXIT.usage);

    expect((await cli(['pools'])).out).toMatch(/^POOL\s+STATE\s+WARM.*\nwarm\s+serving\s+1\s+1\s+0\s+3/);
    expect((await cli(['hosts'])).out).toMatch(new RegExp(`${platform.host}\\s+ok`));
    expect((await cli(['runners', '--pool', 'warm'])).out).toMatch(/rh-warm-[0-9a-f]{8}\s+warm/);
    expect((await cli(['runners', '--all'])).code).toBe(EXIT.ok);
    platform.sim.cancelJob(job.id);
  }, 120_000);

  it('changes it: provision, hold warm runners, remove a runner, drain and resume a pool and a host', async () => {
    const provisioned = await cli(['provision', 'warm', '--count', '2', '--for', '10m', '--timeout', '90']);
    expect(provisioned, provisioned.err).toMatchObject({ code: EXIT.ok });
    expect(provisioned.out).toMatch(/pool warm: 2 of 2 runners up, held until 20/);
    expect(provisioned.err).toMatch(/warm: \d\/2 up/);
    expect((await upRunners()).length).toBeGreaterThanOrEqual(2);

    const above = await cli(['pool', 'warm', 'warm', '--min', '5']);
    expect(above).toMatchObject({ code: EXIT.refused, err: expect.stringContaining("min: 5 is above the pool's max 3") as unknown });
    expect((await cli(['pool', 'warm', 'nope', '--min', '1'])).code).toBe(EXIT.notFound);
    expect((await cli(['pool', 'warm', 'warm'])).code).toBe(EXIT.usage);
    expect((await cli(['pool', 'warm', 'warm', '--min', '1', '--for', 'soon'])).code).toBe(EXIT.usage);
    expect((await cli(['pool', 'warm', 'warm', '--min', '2'])).out).toBe('pool warm holds 2 warm runners until runnerhub pool warm --clear\n');
    expect((await json<PoolJson[]>(['pools'])).find((p) => p.name === 'warm')).toMatchObject({ warm: { min: 2, until: null }, warmNow: 2 });
    expect((await cli(['pool', 'warm', 'warm', '--clear'])).out).toBe('pool warm holds its own warm minimum again (1)\n');

    const [victim] = await upRunners();
    const removed = await cli(['runner', 'remove', victim!.name]);
    expect(removed).toMatchObject({ code: EXIT.ok, out: `runner ${victim!.name} removed: removed by an operator\n` });
    const again = await cli(['runner', 'remove', victim!.id]);
    expect(again).toMatchObject({ code: EXIT.refused, err: expect.stringContaining('already removed') as unknown });
    expect((await cli(['runner', 'remove', 'someone'])).code).toBe(EXIT.usage);

    const drained = await cli(['pool', 'drain', 'warm', '--timeout', '60']);
    expect(drained, drained.err).toMatchObject({ code: EXIT.ok });
    expect(drained.out).toMatch(/^pool warm drained: no new runners/);
    expect(drained.err).toContain('warm: 0 waiting, 0 busy');
    expect(await upRunners()).toEqual([]);
    expect((await cli(['pools'])).out).toMatch(/\nwarm\s+drained/);
    expect((await cli(['pool', 'resume', 'warm'])).out).toBe('pool warm serves again (warm minimum 1)\n');
    await waitFor(async () => (await upRunners()).length === 1, { what: 'warm again after resume', timeoutMs: 60_000 });
    expect((await cli(['pool', 'drain', 'nope'])).code).toBe(EXIT.notFound);

    expect((await cli(['host', 'drain', platform.host])).out).toBe(`host ${platform.host} drained: no new runners there\n`);
    expect((await json<{ host: string; drained: boolean }[]>(['hosts'])).find((h) => h.host === platform.host)?.drained).toBe(true);
    expect((await cli(['hosts'])).out).toMatch(new RegExp(`${platform.host}\\s+drained`));
    expect((await cli(['host', 'resume', platform.host])).out).toBe(`host ${platform.host} takes runners again\n`);
    await waitFor(async () => (await upRunners()).length === 1, { what: 'the warm runner back on the host', timeoutMs: 60_000 });
  }, 240_000);

  it('lists, shows, replays and deletes dead letters', async () => {
    expect((await cli(['dead-letters'])).out).toBe('no dead letters\n');
    const h = natsHeaders();
    h.set('rh-schema', 'runnerhub.v1.JobStuck');
    await jetstream(platform.nc).publish('job.stuck', new Uint8Array([0xff, 0xff, 0xff]), { msgID: `cli-poison-${platform.deployment}`, headers: h });
    type Letters = { deadLetters: { seq: number; subject: string; reason: string }[]; total: number };
    const [letter] = await waitFor(async () => {
      const d = await json<Letters>(['dead-letters', 'list']);
      return d.deadLetters.length > 0 ? d.deadLetters : undefined;
    }, { what: 'the poison message dead-lettered' });
    expect(letter).toMatchObject({ subject: 'job.stuck', reason: expect.stringMatching(/^undecodable/) as unknown });
    expect((await cli(['dead-letters', 'list', '--stream', 'JOBS'])).out).toMatch(new RegExp(`^SEQ.*\\n${letter!.seq}\\s+JOBS\\s+job.stuck`));
    expect((await cli(['status'])).out).toContain('dead letters: 1 (runnerhub dead-letters list)');
    expect(await json(['dead-letters', 'show', String(letter!.seq)])).toMatchObject({ seq: letter!.seq, dataBase64: '////', headers: { 'rh-schema': 'runnerhub.v1.JobStuck' } });
    expect((await cli(['dead-letters', 'replay', String(letter!.seq)])).out).toMatch(/^replayed as job.stuck #\d+ for /);
    // Still undecodable: dead again, under a new number.
    const [back] = await waitFor(async () => {
      const d = await json<Letters>(['dead-letters']);
      return d.deadLetters.some((l) => l.seq !== letter!.seq) ? d.deadLetters : undefined;
    }, { what: 'the replayed message dead again' });
    expect((await cli(['dead-letters', 'show', String(letter!.seq)])).code).toBe(EXIT.notFound);
    expect((await cli(['dead-letters', 'delete', String(back!.seq)])).out).toBe(`dead letter ${back!.seq} deleted\n`);
    expect((await cli(['dead-letters', 'delete', 'x'])).code).toBe(EXIT.usage);
    expect((await json<Letters>(['dead-letters'])).total).toBe(0);
  }, 60_000);

  it('says what to do when it cannot reach a service or its token will not do', async () => {
    const read = { RUNNERHUB_TOKEN: platform.readToken };
    expect((await cli(['pools'], read)).code).toBe(EXIT.ok);
    const refused = await cli(['pool', 'drain', 'warm'], read);
    expect(refused).toMatchObject({ code: EXIT.auth, err: expect.stringMatching(/403.*scope "write".*token "viewer" has scope "read".*needs a token of scope write/) as unknown });
    const none = await cli(['pools'], {});
    expect(none).toMatchObject({ code: EXIT.auth, err: expect.stringContaining('no token: set RUNNERHUB_TOKEN') as unknown });
    const wrong = await cli(['pools'], { RUNNERHUB_TOKEN: 'not-a-token-of-this-platform' });
    expect(wrong).toMatchObject({ code: EXIT.auth, err: expect.stringContaining('(from $RUNNERHUB_TOKEN) is not one of the pool-manager') as unknown });
    // The metrics service away: status says so and exits 1; a command that needs it exits 3 with the variable to set.
    const away = { RUNNERHUB_TOKEN: platform.token, RUNNERHUB_METRICS_URL: 'http://127.0.0.1:9' };
    const status = await cli(['status'], away);
    expect(status.code).toBe(EXIT.unhealthy);
    expect(status.out).toContain('RunnerHub is NOT healthy');
    expect(status.out).toMatch(/metrics\s+NO/);
    const unreachable = await cli(['dead-letters'], away);
    expect(unreachable).toMatchObject({ code: EXIT.unreachable, err: expect.stringMatching(/cannot reach the metrics at http:\/\/127.0.0.1:9 .*RUNNERHUB_METRICS_URL/) as unknown });
    // A profile file: used when 0600, refused when others can read it.
    const profile = join(home, 'profile.env');
    writeFileSync(profile, `${Object.entries(serviceEnv()).map(([k, v]) => `${k}=${v}`).join('\n')}\nRUNNERHUB_TOKEN=${platform.token}\n`, { mode: 0o600 });
    expect((await cli(['--profile', profile, 'pools'], { PATH: process.env['PATH'] ?? '' })).code).toBe(EXIT.ok);
    chmodSync(profile, 0o644);
    expect(await cli(['pools'], { RUNNERHUB_PROFILE: profile })).toMatchObject({ code: EXIT.usage, err: expect.stringContaining(`chmod 600 ${profile}`) as unknown });
    expect((await cli(['no-such-command'])).code).toBe(EXIT.usage);
    expect((await cli(['--help'])).out).toContain('provision runners for a repo    runnerhub provision <pool> --count N');
  }, 60_000);

  it("runs the doctor's host checks and shows a service's log where the deployment keeps one", async () => {
    const doctor = await cli(['doctor', '--', '--docker-host', 'tcp://127.0.0.1:2375', '--github-api-url', platform.sim.url], { PATH: process.env['PATH'] ?? '' });
    expect([0, 1], doctor.err).toContain(doctor.code);
    expect(doctor.out).toMatch(/docker/i);
    const logs = mkdtempSync(join(tmpdir(), 'runnerhub-cli-logs-'));
    writeFileSync(join(logs, 'scheduler.log'), `${platform.services.scheduler!.output()}\nlast line\n`);
    expect(await cli(['logs', 'scheduler', '-n', '1'], { RUNNERHUB_LOG_DIR: logs })).toMatchObject({ code: EXIT.ok, out: 'last line\n' });
    expect(await cli(['logs', 'metrics'], { RUNNERHUB_LOG_DIR: logs })).toMatchObject({ code: EXIT.notFound, err: expect.stringContaining('docker compose logs metrics') as unknown });
    expect((await cli(['logs', 'nosuch'])).code).toBe(EXIT.usage);
  }, 60_000);

  it('serves the same operations as MCP tools to the SDK client: read tools with a read token, write tools only with a write token', async () => {
    const connect = async (token: string) => {
      const client = new Client({ name: 'e2e', version: '1' });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [bin, 'mcp'], env: { ...baseEnv(), RUNNERHUB_TOKEN: token }, cwd: home, stderr: 'pipe' }));
      return client;
    };
    const text = (r: Awaited<ReturnType<Client['callTool']>>) => (r.content as { type: string; text: string }[])[0]!.text;
    const call = async (client: Client, name: string, args: Record<string, unknown> = {}) => {
      const r = await client.callTool({ name, arguments: args });
      expect(r.isError, `${name}: ${text(r)}`).toBeFalsy();
      return JSON.parse(text(r)) as unknown;
    };
    const writer = await connect(platform.token);
    const reader = await connect(platform.readToken);
    try {
      const { tools } = await writer.listTools();
      const names = ['status', 'list_waiting_jobs', 'why_job', 'list_pools', 'list_runners', 'list_hosts', 'provision_runners', 'remove_runner', 'drain_pool', 'resume_pool', 'drain_host'];
      expect(tools.map((t) => t.name).sort()).toEqual([...names].sort());
      for (const t of tools) {
        expect(t.inputSchema.type).toBe('object');
        expect(t.description).toMatch(t.annotations?.readOnlyHint ? /token of scope read is enough/ : /needs a RunnerHub token of scope write/);
      }
      expect(tools.find((t) => t.name === 'provision_runners')?.inputSchema.required).toEqual(['pool', 'count']);

      // Read tools, with the read token.
      expect(await call(reader, 'status')).toMatchObject({ healthy: true });
      const job = platform.sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'warm', 'arm64'] });
      const waiting = await waitFor(async () => {
        const jobs = (await call(reader, 'list_waiting_jobs', { repo: 'acme/app' })) as { jobId: string; why: string; detail: string }[];
        return jobs.find((j) => j.jobId === String(job.id));
      }, { what: 'the job among the waiting ones' });
      expect(waiting).toMatchObject({ why: 'no_pool_matches', detail: expect.stringContaining('arm64') as unknown });
      expect(await call(reader, 'why_job', { jobId: String(job.id) })).toMatchObject({ reason: 'no_pool_matches', closestPools: [{ pool: 'warm', missing: ['arm64'] }] });
      platform.sim.cancelJob(job.id);
      expect(((await call(reader, 'list_pools')) as { name: string }[]).map((p) => p.name)).toEqual(['warm']);
      expect(((await call(reader, 'list_hosts')) as { host: string }[]).map((h) => h.host)).toContain(platform.host);
      await waitFor(async () => ((await call(reader, 'list_runners', { pool: 'warm' })) as RunnerJson[]).some((r) => ['starting', 'idle'].includes(r.state)), { what: 'a warm runner', timeoutMs: 60_000 });

      // Write tools: refused with the read token, naming the scope; done with the write token.
      const refused = await reader.callTool({ name: 'drain_pool', arguments: { pool: 'warm' } });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/403.*scope "write"/);
      const badInput = await writer.callTool({ name: 'provision_runners', arguments: { pool: 'warm', count: 0 } });
      expect(badInput.isError).toBe(true);

      expect(await call(writer, 'provision_runners', { pool: 'warm', count: 2, minutes: 5 })).toMatchObject({ warm: { min: 2 }, warmNow: 2 });
      const runners = await waitFor(async () => {
        const up = ((await call(writer, 'list_runners', { pool: 'warm' })) as RunnerJson[]).filter((r) => ['starting', 'idle'].includes(r.state));
        return up.length >= 2 ? up : undefined;
      }, { what: 'two warm runners', timeoutMs: 60_000 });
      expect(await call(writer, 'remove_runner', { runner: runners[0]!.name })).toMatchObject({ name: runners[0]!.name, state: 'removed' });
      const gone = await writer.callTool({ name: 'remove_runner', arguments: { runner: runners[0]!.name } });
      expect(gone.isError).toBe(true);
      expect(text(gone)).toContain('already removed');
      expect(await call(writer, 'drain_pool', { pool: 'warm' })).toMatchObject({ name: 'warm', drained: true });
      expect(await call(writer, 'resume_pool', { pool: 'warm' })).toMatchObject({ name: 'warm', drained: false });
      expect(await call(writer, 'drain_host', { host: platform.host })).toEqual({ host: platform.host, drained: true });
      expect(await call(writer, 'drain_host', { host: platform.host, undrain: true })).toEqual({ host: platform.host, drained: false });
      await cli(['pool', 'warm', 'warm', '--clear']);
    } finally {
      await writer.close();
      await reader.close();
    }
  }, 120_000);
});
