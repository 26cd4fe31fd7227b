import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, repoRoot, waitFor } from './index.js';

const run = promisify(execFile);

export const PROMETHEUS_DIR = join(repoRoot, 'deploy/prometheus');
export const GRAFANA_DASHBOARDS_DIR = join(repoRoot, 'deploy/grafana/dashboards');

/** The scrape jobs deploy/prometheus/prometheus.yml defines (its job names are the `job` label everywhere). */
export function deployedJobs(): string[] {
  const text = readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8');
  return [...text.matchAll(/job_name:\s*(\S+)/g)].map((m) => m[1]!);
}

export async function promtool(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('promtool', args, { cwd: PROMETHEUS_DIR });
  return stdout + stderr;
}

export interface Prometheus {
  url: string;
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  get<T>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Debian's Prometheus (apt `prometheus`, installed by scripts/infra.sh) with the deployed alert
 * rules and the deployed job names, each pointed at a service of this test instead of a compose
 * host name; scraped every second so a short workload leaves enough samples.
 */
export async function startPrometheus(targets: Record<string, string>, options: { rulesFile?: string; alertmanager?: string } = {}): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const port = await freePort();
  const jobs = Object.entries(targets)
    .map(([job, hostPort]) => `  - job_name: ${job}\n    static_configs: [{ targets: ["${hostPort}"] }]`)
    .join('\n');
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${options.rulesFile ?? join(PROMETHEUS_DIR, 'alerts.yml')}\n` +
      (options.alertmanager ? `alerting:\n  alertmanagers:\n    - static_configs: [{ targets: ["${options.alertmanager}"] }]\n` : '') +
      `scrape_configs:\n${jobs}\n`,
  );
  await promtool('check', 'config', join(dir, 'prometheus.yml'));
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 30_000, what: `prometheus ready\n${output}` });
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    get,
    async query(expr) {
      const data = await get<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      return data.result;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
