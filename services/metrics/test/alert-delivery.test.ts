import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, REDIS_URL, repoRoot, startNatsServer, startServiceProcess, waitFor, type NatsServer, type ServiceProcess } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_DIR, startPrometheus, type Prometheus } from './prometheus.js';

// Alerts reach a person: the deployed rules in a real Prometheus, a real Alertmanager (Debian's
// prometheus-alertmanager) configured by deploy/alertmanager/render-config.sh from the variables a
// NAS owner puts in .env, and a local webhook receiver standing in for ntfy or Home Assistant. The
// metrics service is killed: RunnerHubTargetDown arrives, with its runbook; started again, the
// resolution arrives. The rules' `for:` and Alertmanager's intervals are shortened to seconds.

interface Notification {
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

describe('alert delivery: Prometheus → Alertmanager → a webhook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alert-delivery-'));
  const received: Notification[] = [];
  let receiver: Server;
  let alertmanager: ChildProcess;
  let alertmanagerOutput = '';
  let prometheus: Prometheus;
  let nats: NatsServer;
  let metrics: ServiceProcess;
  let metricsPort: number;
  let amPort: number;
  const startMetrics = async () => {
    metrics = await startServiceProcess('metrics', { NATS_URL: nats.url, REDIS_URL, HTTP_PORT: String(metricsPort), LOG_LEVEL: 'warn' });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200, { what: `metrics ready\n${metrics.output()}`, timeoutMs: 60_000 });
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Notification);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    const receiverPort = (receiver.address() as { port: number }).port;

    amPort = await freePort();
    alertmanager = spawn(
      'sh',
      [join(repoRoot, 'deploy/alertmanager/render-config.sh'), join(dir, 'alertmanager.yml'), `--storage.path=${join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          ALERTMANAGER_BIN: 'prometheus-alertmanager',
          ALERT_WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/runnerhub`,
          ALERT_GROUP_WAIT: '1s',
          ALERT_GROUP_INTERVAL: '1s',
          ALERT_REPEAT_INTERVAL: '1h',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    alertmanager.stdout?.on('data', (d: Buffer) => (alertmanagerOutput += d.toString()));
    alertmanager.stderr?.on('data', (d: Buffer) => (alertmanagerOutput += d.toString()));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`).catch(() => undefined))?.status === 200, { what: `alertmanager ready\n${alertmanagerOutput}`, timeoutMs: 30_000 });

    // The deployed rules, each holding for a second instead of minutes.
    const rules = join(dir, 'alerts.yml');
    writeFileSync(rules, readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8').replace(/^(\s+)for: \S+$/gm, '$1for: 1s'));
    nats = await startNatsServer();
    metricsPort = await freePort();
    await startMetrics();
    prometheus = await startPrometheus({ metrics: `127.0.0.1:${metricsPort}` }, { rulesFile: rules, alertmanager: `127.0.0.1:${amPort}` });
    await waitFor(async () => (await prometheus.query('up{job="metrics"} == 1')).length === 1, { what: 'prometheus scraping the metrics service', timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    metrics?.kill('SIGTERM');
    await metrics?.exited;
    await prometheus?.stop();
    alertmanager?.kill('SIGTERM');
    await nats?.stop();
    await new Promise((done) => receiver?.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  const targetDown = (status: 'firing' | 'resolved') =>
    received.flatMap((n) => n.alerts).find((a) => a.labels['alertname'] === 'RunnerHubTargetDown' && a.labels['job'] === 'metrics' && a.status === status);

  it('sends RunnerHubTargetDown with its runbook when the metrics service dies, and its resolution when it is back', async () => {
    expect(readFileSync(join(dir, 'alertmanager.yml'), 'utf8')).toContain('send_resolved: true');
    metrics.kill('SIGKILL');
    await metrics.exited;
    const firing = await waitFor(() => targetDown('firing'), { what: `the firing notification\nalertmanager: ${alertmanagerOutput}`, timeoutMs: 45_000 });
    expect(firing.labels).toMatchObject({ severity: 'critical', job: 'metrics' });
    expect(firing.annotations).toMatchObject({ summary: expect.stringContaining('does not answer /metrics') as unknown, runbook: 'docs/operations.md#runnerhubtargetdown' });
    // `runnerhub status` shows it too (the services themselves are not there: it says so, and exits 1).
    const status = await promisify(execFile)(process.execPath, [join(repoRoot, 'tools/cli/bin/runnerhub.js'), 'status'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, RUNNERHUB_URL: 'http://127.0.0.1:9', RUNNERHUB_ALERTMANAGER_URL: `http://127.0.0.1:${amPort}` },
      cwd: dir,
    }).then(({ stdout }) => ({ code: 0, stdout }), (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }));
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/alerts firing: \d+\n(.*\n)* {2}RunnerHubTargetDown \[critical\]: metrics \(127\.0\.0\.1:\d+\) does not answer \/metrics/);

    await startMetrics();
    const resolved = await waitFor(() => targetDown('resolved'), { what: `the resolved notification\nalertmanager: ${alertmanagerOutput}`, timeoutMs: 45_000 });
    expect(resolved.labels['instance']).toBe(firing.labels['instance']);
  }, 120_000);
});
