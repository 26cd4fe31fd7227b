import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot, waitFor } from './index.js';
import { PROMETHEUS_DIR } from './prometheus.js';

/** One alert of an Alertmanager webhook notification, as a receiver (ntfy, Home Assistant) gets it. */
export interface NotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A local HTTP server standing in for a NAS owner's webhook receiver: it keeps every notification. */
export interface WebhookReceiver {
  url: string;
  alerts(): NotifiedAlert[];
  /** The first alert of `name` with `status` whose labels include `labels`. */
  find(name: string, status: NotifiedAlert['status'], labels?: Record<string, string>): NotifiedAlert | undefined;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: NotifiedAlert[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(...(JSON.parse(body) as { alerts: NotifiedAlert[] }).alerts);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/runnerhub`,
    alerts: () => [...received],
    find: (name, status, labels = {}) =>
      received.find((a) => a.labels['alertname'] === name && a.status === status && Object.entries(labels).every(([k, v]) => a.labels[k] === v)),
    close: () => new Promise((done) => server.close(() => done())),
  };
}

export interface Alertmanager {
  /** host:port, for Prometheus's `alertmanagers` and the CLI's RUNNERHUB_ALERTMANAGER_URL. */
  address: string;
  /** The configuration deploy/alertmanager/render-config.sh wrote. */
  config(): string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Debian's Alertmanager configured the way compose does it: deploy/alertmanager/render-config.sh
 * from the variables a NAS owner puts in .env (`env`), with grouping shortened to a second.
 */
export async function startAlertmanager(env: Record<string, string>): Promise<Alertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'alertmanager-'));
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    'sh',
    [join(repoRoot, 'deploy/alertmanager/render-config.sh'), join(dir, 'alertmanager.yml'), `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    {
      env: { PATH: process.env['PATH'] ?? '', ALERTMANAGER_BIN: 'prometheus-alertmanager', ALERT_GROUP_WAIT: '1s', ALERT_GROUP_INTERVAL: '1s', ALERT_REPEAT_INTERVAL: '1h', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => undefined))?.status === 200, { what: `alertmanager ready\n${output}`, timeoutMs: 30_000 });
  return {
    address: `127.0.0.1:${port}`,
    config: () => readFileSync(join(dir, 'alertmanager.yml'), 'utf8'),
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The deployed alert rules with their waits shortened for a test: every `for:` to one second, and
 * each named threshold replaced (`{ '15 * 60': '20' }`), written to a file of its own.
 */
export function shortenedAlertRules(thresholds: Record<string, string> = {}): string {
  let text = readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8').replace(/^(\s+)for: \S+$/gm, '$1for: 1s');
  for (const [from, to] of Object.entries(thresholds)) {
    if (!text.includes(from)) throw new Error(`alerts.yml has no ${from} to shorten`);
    text = text.replaceAll(from, to);
  }
  const file = join(mkdtempSync(join(tmpdir(), 'alert-rules-')), 'alerts.yml');
  writeFileSync(file, text);
  return file;
}
