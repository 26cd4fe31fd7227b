import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { TEST_DATABASE_ADMIN_URL, waitFor } from '@runnerhub/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, startPlatform, type Platform } from '../src/index.js';

// docs/operations.md "Backup and restore", as an operator runs it: stop the six services, dump
// PostgreSQL, stop NATS and copy its JetStream store; then everything is lost (database and store
// gone), restored from the backup, and started again. Jobs that were waiting when the backup was
// taken must all still run. They wait because no executor runs yet: no host, so no runner.

const run = promisify(execFile);
const POOLS = `pools:
  - name: later
    repository: acme/app
    labels: [later]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 2
    idleTimeoutSeconds: 5
`;
const WITHOUT_EXECUTOR = SERVICES.filter((s) => s !== 'container-executor');

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('backup and restore', () => {
  let platform: Platform;
  let backup: string;

  beforeAll(async () => {
    platform = await startPlatform({ pools: POOLS, services: WITHOUT_EXECUTOR });
    backup = await mkdtemp(join(tmpdir(), 'rh-backup-'));
  }, 600_000);

  afterAll(async () => {
    await platform?.stop();
    await rm(backup, { recursive: true, force: true });
  });

  it('brings back every waiting job after the database and the JetStream store are lost', async () => {
    const { sim, nats } = platform;
    const jobs = [1, 2, 3].map((n) => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'later'], command: `echo restored ${n}`, durationMs: 500 }));
    const known = async () => (await platform.api<{ jobs: Array<{ jobId: string; match: string; foundBy: string }> }>('scheduler', '/api/jobs?limit=50')).body.jobs;
    await waitFor(async () => (await known()).filter((j) => j.match === 'matched').length === jobs.length, {
      what: `the scheduler to hold the ${jobs.length} jobs as matched\n${platform.output()}`,
      timeoutMs: 60_000,
    });
    expect(jobs.map((j) => sim.job(j.id)?.status)).toEqual(['queued', 'queued', 'queued']);

    const jsm = await jetstreamManager(platform.nc);
    const streamCounts = async () => Object.fromEntries(await Promise.all((await jsm.streams.names().next()).sort().map(async (s) => [s, (await jsm.streams.info(s)).state.messages] as const)));
    // The backup: services stopped (newest first, as compose stops them), a dump, the stopped store copied.
    for (const name of [...WITHOUT_EXECUTOR].reverse()) {
      platform.services[name]!.kill('SIGTERM');
      expect((await platform.services[name]!.exited).code, `${name} stops cleanly`).toBe(0);
    }
    const dump = join(backup, 'runnerhub.dump');
    await run('pg_dump', ['--format=custom', `--file=${dump}`, platform.databaseUrl]);
    const counted = await streamCounts();
    expect(counted['GITHUB'], 'webhook deliveries in the GITHUB stream').toBeGreaterThanOrEqual(jobs.length);
    await nats.stop({ keepStore: true });
    await cp(nats.storeDir, join(backup, 'nats'), { recursive: true });

    // Everything lost.
    const name = new URL(platform.databaseUrl).pathname.slice(1);
    await admin(`DROP DATABASE "${name}" WITH (FORCE)`);
    await rm(nats.storeDir, { recursive: true, force: true });

    // The restore: an empty database of the same name, the dump into it, the store back, then start.
    await admin(`CREATE DATABASE "${name}"`);
    await run('pg_restore', ['--exit-on-error', '--no-owner', `--dbname=${platform.databaseUrl}`, dump]);
    await cp(join(backup, 'nats'), nats.storeDir, { recursive: true });
    expect(await readdir(join(nats.storeDir, 'jetstream'))).not.toHaveLength(0);
    await nats.start();
    // The store is back as it was (a lost one would be recreated empty by the services), and so is
    // the database: the scheduler knows the jobs from their webhooks, not from asking GitHub again.
    await waitFor(async () => JSON.stringify(await streamCounts().catch(() => ({}))) === JSON.stringify(counted), { what: `the streams as they were backed up: ${JSON.stringify(counted)}`, timeoutMs: 30_000 });
    for (const service of SERVICES) await platform.restart(service, 'SIGTERM');
    const found = (await known()).filter((j) => jobs.some((x) => String(x.id) === j.jobId));
    expect(found.map((j) => j.foundBy)).toEqual(['webhook', 'webhook', 'webhook']);

    await waitFor(() => jobs.every((j) => sim.job(j.id)?.status === 'completed'), { what: `every waiting job to run after the restore\n${platform.output()}`, timeoutMs: 180_000 });
    expect(jobs.map((j) => sim.job(j.id)?.conclusion)).toEqual(['success', 'success', 'success']);
    expect((await known()).filter((j) => jobs.some((x) => String(x.id) === j.jobId)).length).toBe(jobs.length);
    let left: unknown[] = [];
    await waitFor(async () => (left = await platform.containers()).length === 0, { what: 'no runner container left', timeoutMs: 60_000 }).catch(async (error: Error) => {
      const pools = await platform.api('pool-manager', '/api/pools').catch((e: unknown) => ({ body: String(e) }));
      const runners = await platform.api('pool-manager', '/api/runners').catch((e: unknown) => ({ body: String(e) }));
      const demand = await platform.api('scheduler', '/api/demand').catch((e: unknown) => ({ body: String(e) }));
      const jobsNow = await platform.api('scheduler', '/api/jobs?limit=50').catch((e: unknown) => ({ body: String(e) }));
      throw new Error(`${error.message}\nleft: ${JSON.stringify(left)}\nPOOLS ${JSON.stringify(pools.body)}\nRUNNERS ${JSON.stringify(runners.body)}\nDEMAND ${JSON.stringify(demand.body)}\nJOBS ${JSON.stringify(jobsNow.body)}\nDELIVERIES ${JSON.stringify(platform.sim.deliveries().slice(-12).map((d) => ({ action: d.action, status: d.status, redelivery: d.redelivery })))}\n${platform.output()}`);
    });
  }, 400_000);
});
