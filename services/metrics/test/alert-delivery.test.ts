import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  freePort,
  REDIS_URL,
  repoRoot,
  shortenedAlertRules,
  startAlertmanager,
  startNatsServer,
  startPrometheus,
  startServiceProcess,
  startWebhookReceiver,
  waitFor,
  type Alertmanager,
  type NatsServer,
  type Prometheus,
  type ServiceProcess,
  type WebhookReceiver,
} from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Alerts reach a person: the deployed rules in a real Prometheus, a real Alertmanager (Debian's
// prometheus-alertmanager) configured by deploy/alertmanager/render-config.sh from the variables a
// NAS owner puts in .env, and a local webhook receiver standing in for ntfy or Home Assistant. The
// metrics service is killed: RunnerHubTargetDown arrives, with its runbook; started again, the
// resolution arrives. The rules' `for:` and Alertmanager's intervals are shortened to seconds.
// alert-rules-live.test.ts has the alerts a broken pool raises through the whole platform.

describe('alert delivery: Prometheus → Alertmanager → a webhook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alert-delivery-'));
  let receiver: WebhookReceiver;
  let alertmanager: Alertmanager;
  let prometheus: Prometheus;
  let nats: NatsServer;
  let metrics: ServiceProcess;
  let metricsPort: number;
  const startMetrics = async () => {
    metrics = await startServiceProcess('metrics', { NATS_URL: nats.url, REDIS_URL, HTTP_PORT: String(metricsPort), LOG_LEVEL: 'warn' });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200, { what: `metrics ready\n${metrics.output()}`, timeoutMs: 60_000 });
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    alertmanager = await startAlertmanager({ ALERT_WEBHOOK_URL: receiver.url });
    nats = await startNatsServer();
    metricsPort = await freePort();
    await startMetrics();
    prometheus = await startPrometheus({ metrics: `127.0.0.1:${metricsPort}` }, { rulesFile: shortenedAlertRules(), alertmanager: alertmanager.address });
    await waitFor(async () => (await prometheus.query('up{job="metrics"} == 1')).length === 1, { what: 'prometheus scraping the metrics service', timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    metrics?.kill('SIGTERM');
    await metrics?.exited;
    await prometheus?.stop();
    await alertmanager?.stop();
    await nats?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const targetDown = (status: 'firing' | 'resolved') => receiver.find('RunnerHubTargetDown', status, { job: 'metrics' });

  it('sends RunnerHubTargetDown with its runbook when the metrics service dies, and its resolution when it is back', async () => {
    expect(alertmanager.config()).toContain('send_resolved: true');
    metrics.kill('SIGKILL');
    await metrics.exited;
    const firing = await waitFor(() => targetDown('firing'), { what: `the firing notification\nalertmanager: ${alertmanager.output()}`, timeoutMs: 45_000 });
    expect(firing.labels).toMatchObject({ severity: 'critical', job: 'metrics' });
    expect(firing.annotations).toMatchObject({ summary: expect.stringContaining('does not answer /metrics') as unknown, runbook: 'docs/operations.md#runnerhubtargetdown' });
    // `runnerhub status` shows it too (the services themselves are not there: it says so, and exits 1).
    const status = await promisify(execFile)(process.execPath, [join(repoRoot, 'tools/cli/bin/runnerhub.js'), 'status'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, RUNNERHUB_URL: 'http://127.0.0.1:9', RUNNERHUB_ALERTMANAGER_URL: `http://${alertmanager.address}` },
      cwd: dir,
    }).then(({ stdout }) => ({ code: 0, stdout }), (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }));
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/alerts firing: \d+\n(.*\n)* {2}RunnerHubTargetDown \[critical\]: metrics \(127\.0\.0\.1:\d+\) does not answer \/metrics/);

    await startMetrics();
    const resolved = await waitFor(() => targetDown('resolved'), { what: `the resolved notification\nalertmanager: ${alertmanager.output()}`, timeoutMs: 45_000 });
    expect(resolved.labels['instance']).toBe(firing.labels['instance']);
  }, 120_000);
});
