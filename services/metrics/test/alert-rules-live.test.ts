import { startPlatform, type Platform } from '@runnerhub/e2e';
import { shortenedAlertRules, startAlertmanager, startPrometheus, startWebhookReceiver, waitFor, type Alertmanager, type Prometheus, type WebhookReceiver } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The two alerts a NAS owner meets first, raised by the whole platform rather than by hand-made
// facts: a pool whose runner image cannot start (every runner fails with image_pull, the pool
// backs off 10 s, 20 s, ...) and a job of that pool that waits past its expected start. Real
// Prometheus with the deployed rules (waits shortened: `for:` to 1 s, the 15-minute pending
// threshold to 20 s), real Alertmanager rendered from .env variables, a local webhook receiver.

describe('alerts from a broken pool reach a person', () => {
  let platform: Platform;
  let prometheus: Prometheus;
  let alertmanager: Alertmanager;
  let receiver: WebhookReceiver;
  let jobId: number;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    alertmanager = await startAlertmanager({ ALERT_WEBHOOK_URL: receiver.url });
    platform = await startPlatform({
      pools: `pools:
  - name: broken
    repository: acme/app
    labels: [broken]
    image: runnerhub/no-such-image:missing
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 1
`,
      services: ['container-executor', 'pool-manager', 'scheduler', 'webhook-gateway', 'metrics'],
    });
    const targets: Record<string, string> = {};
    for (const [name, s] of Object.entries(platform.services)) targets[name] = new URL(s.url).host;
    prometheus = await startPrometheus(targets, { rulesFile: shortenedAlertRules({ '15 * 60': '20' }), alertmanager: alertmanager.address });
    jobId = platform.sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'linux', 'broken'] }).id;
  }, 600_000);

  afterAll(async () => {
    await prometheus?.stop();
    await platform?.stop();
    await alertmanager?.stop();
    await receiver?.close();
  });

  const state = () => `received: ${JSON.stringify(receiver.alerts().map((a) => [a.labels['alertname'], a.status, a.labels['pool']]))}\nalertmanager: ${alertmanager.output()}\n${platform.output(4000)}`;

  it('sends RunnerHubRunnerBootFailures for the pool and its reason, with its runbook', async () => {
    const firing = await waitFor(() => receiver.find('RunnerHubRunnerBootFailures', 'firing', { pool: 'broken' }), { what: `the boot-failure notification\n${state()}`, timeoutMs: 120_000, intervalMs: 500 });
    expect(firing.labels).toMatchObject({ severity: 'warning', reason: 'image_pull' });
    expect(firing.annotations['runbook']).toBe('docs/operations.md#runnerhubrunnerbootfailures');
    expect(firing.annotations['description']).toMatch(/runners of pool broken failed before taking a job in 15 minutes \(reason image_pull\)/);
    // No runner ever took the job: it is still queued at GitHub.
    expect(platform.sim.job(jobId)?.status).toBe('queued');
  }, 150_000);

  it('sends RunnerHubJobsPendingTooLong while the job waits, and its resolution once the job is cancelled', async () => {
    const firing = await waitFor(() => receiver.find('RunnerHubJobsPendingTooLong', 'firing', { pool: 'broken' }), { what: `the pending-job notification\n${state()}`, timeoutMs: 90_000, intervalMs: 500 });
    expect(firing.annotations['summary']).toBe('Jobs of pool broken have waited more than 15 minutes for a runner');
    expect(firing.annotations['runbook']).toBe('docs/operations.md#runnerhubjobspendingtoolong');
    platform.sim.cancelJob(jobId);
    await waitFor(() => receiver.find('RunnerHubJobsPendingTooLong', 'resolved', { pool: 'broken' }), { what: `the resolved notification\n${state()}`, timeoutMs: 90_000, intervalMs: 500 });
  }, 200_000);
});
