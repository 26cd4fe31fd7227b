import { startGitHubSim, type GitHubSim } from '@runnerhub/github-sim';
import { createTestDatabase, REDIS_URL, startNatsServer, startServiceProcess, waitForReady, type NatsServer, type ServiceProcess, type TestDatabase } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// GATEWAY_SOURCE_ALLOWLIST=github on the real gateway process, with GitHub's /meta from the simulator
// (its hooks ranges are loopback) and the loopback address as a trusted reverse proxy.
describe('webhook source allowlist', () => {
  let nats: NatsServer;
  let testDb: TestDatabase;
  let sim: GitHubSim;
  let gateway: ServiceProcess;

  beforeAll(async () => {
    nats = await startNatsServer();
    testDb = await createTestDatabase('gateway_allowlist');
    sim = await startGitHubSim({ webhookSecret: 'allowlist-secret' });
    sim.createInstallation({ account: 'acme', repositories: ['app'] });
    gateway = await startServiceProcess('webhook-gateway', {
      NATS_URL: nats.url,
      DATABASE_URL: testDb.url,
      REDIS_URL,
      GITHUB_WEBHOOK_SECRET: 'allowlist-secret',
      GITHUB_API_URL: sim.url,
      GATEWAY_SOURCE_ALLOWLIST: 'github',
      GATEWAY_TRUSTED_PROXIES: '127.0.0.1/32',
      LOG_LEVEL: 'warn',
    });
    sim.setWebhook({ url: `${gateway.url}/webhooks/github` });
    await waitForReady(gateway);
  }, 90_000);

  afterAll(async () => {
    gateway?.kill('SIGTERM');
    await gateway?.exited;
    await sim?.close();
    await nats?.stop();
    await testDb?.drop();
  });

  it("accepts GitHub's deliveries and refuses a client outside GitHub's ranges behind the proxy", async () => {
    sim.createJob({ repository: 'acme/app', labels: ['x'] });
    const accepted = await sim.waitForDelivery((d) => d.event === 'workflow_job');
    expect(accepted.statusCode).toBe(202);

    const refused = await fetch(`${gateway.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9', 'x-github-event': 'ping', 'x-github-delivery': 'forged' },
      body: '{}',
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'source_not_allowed', message: "source 203.0.113.9 is not in GitHub's hooks ranges" });
  });
});
