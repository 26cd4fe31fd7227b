import { Writable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { streamDefinitions } from '@runnerhub/contracts';
import { startGitHubSim, type GitHubSim } from '@runnerhub/github-sim';
import { connectNats, createLogger, ensureStreams } from '@runnerhub/platform';
import { createTestDatabase, REDIS_URL, startNatsServer, startServiceProcess, waitFor, waitForReady, type NatsServer, type ServiceProcess, type TestDatabase } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The promise behind the reconciler: a job GitHub could not tell us about still reaches JetStream.
// The real gateway process, the GitHub simulator sending to it, a private NATS server we can stop.

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const TOKEN = 'admin-token-for-redelivery-tests';

describe('redelivery reconciler', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let testDb: TestDatabase;
  let sim: GitHubSim;
  let gateway: ServiceProcess;
  /** gh.workflow_job.queued messages stored in the stream (JetStream dedup already applied). */
  const storedQueued = async (): Promise<number> => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('GITHUB', { subjects_filter: 'gh.workflow_job.queued' });
    return (info.state.subjects)?.['gh.workflow_job.queued'] ?? 0;
  };
  let jobsCreated = 0;

  const runReconciler = async () => {
    const response = await fetch(`${gateway.url}/api/reconciler/run`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as { missing: number; requested: number; stoppedBy: string | null };
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await ensureStreams(nc, Object.values(streamDefinitions));
    testDb = await createTestDatabase('gateway_redelivery');
    sim = await startGitHubSim({ webhookSecret: 'redelivery-secret' });
    sim.createInstallation({ account: 'acme', repositories: ['app'] });
    gateway = await startServiceProcess('webhook-gateway', {
      NATS_URL: nats.url,
      DATABASE_URL: testDb.url,
      REDIS_URL,
      ADMIN_TOKENS: `ops:write:${TOKEN}`,
      GITHUB_WEBHOOK_SECRET: 'redelivery-secret',
      GITHUB_API_URL: sim.url,
      GITHUB_APP_ID: String(sim.app.id),
      GITHUB_APP_PRIVATE_KEY: sim.app.privateKey,
      // The test drives cycles through the admin API.
      GATEWAY_REDELIVERY_INTERVAL_SECONDS: '3600',
      LOG_LEVEL: 'warn',
    });
    sim.setWebhook({ url: `${gateway.url}/webhooks/github` });
    await waitForReady(gateway);
  }, 120_000);

  afterAll(async () => {
    gateway?.kill('SIGTERM');
    await gateway?.exited;
    await sim?.close();
    await nc?.close();
    await nats?.stop();
    await testDb?.drop();
  });

  it('recovers every delivery answered 503 while NATS was down, and publishes each job once', async () => {
    // As a NATS restart on the NAS: the JetStream store survives.
    await nats.stop({ keepStore: true });
    const jobs = Array.from({ length: 3 }, () => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'nats-down'] }));
    jobsCreated += jobs.length;
    await waitFor(() => sim.deliveries().filter((d) => d.event === 'workflow_job' && d.statusCode === 503).length === 3, {
      what: 'three 503 answers while NATS is down',
      // The gateway gives NATS about 5 s before answering 503; GitHub delivers one after another.
      timeoutMs: 90_000,
    });
    await nats.start();
    // This test's own client may have given up during the outage; the gateway's keeps trying.
    await nc.close().catch(() => undefined);
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await waitForReady(gateway);
    const summary = await runReconciler();
    expect(summary.requested).toBeGreaterThanOrEqual(3);
    // Exactly one queued message per job: none lost, none twice.
    await waitFor(async () => (await storedQueued()) === jobsCreated, { what: `${jobsCreated} queued jobs on JetStream`, timeoutMs: 60_000 });
    const again = await runReconciler();
    expect(again.missing).toBe(0);
    expect(await storedQueued()).toBe(jobsCreated);
  }, 180_000);

  it('gets every job to JetStream while GitHub loses 20% of deliveries', async () => {
    sim.setFaults({ webhooks: { dropRate: 0.2 } });
    // 40 jobs: the chance that none of their deliveries is lost is below one in 7,000.
    const jobs = Array.from({ length: 40 }, () => sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'lossy'] }));
    jobsCreated += jobs.length;
    const wanted = jobs.map((j) => BigInt(j.id));
    await waitFor(() => sim.deliveries().filter((d) => d.event === 'workflow_job' && wanted.includes(BigInt((d.payload as { workflow_job: { id: number } }).workflow_job.id))).length === 40, {
      what: 'GitHub to have tried every delivery',
    });
    const lost = sim.deliveries().filter((d) => d.event === 'workflow_job' && d.status === 'timed out').length;
    expect(lost).toBeGreaterThan(0);
    sim.setFaults({});
    await runReconciler();
    await waitFor(async () => (await storedQueued()) === jobsCreated, { what: `all ${jobsCreated} queued jobs on JetStream`, timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await storedQueued()).toBe(jobsCreated);
  }, 90_000);
});
