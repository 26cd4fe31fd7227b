import { mkdirSync, writeFileSync } from 'node:fs';
import { createDockerClient, LABEL, watchLeftovers } from '@runnerhub/docker';
import { render, runnersOfRun, summarize, type DemoIntake, type DemoJob, type DemoRunner, type Evidence } from './summary.js';

/**
 * The workload of `make demo`, against a platform that `scripts/run-platform.sh` started with the
 * simulator as its GitHub: a few dozen jobs across the demo's `small` (warm) and `large` (cold)
 * pools, one job no pool serves and one for the `broken` pool, whose image cannot start. Shows
 * progress, then a summary; writes it as JSON to .demo/summary.json. Exit 0 when every job that
 * should run succeeded and nothing was left behind.
 *
 * Settings (environment): DEMO_JOBS (default 24), DEMO_TIMEOUT_SECONDS (300), DEMO_INTAKE (webhook;
 * scaleset: the pools are runner scale sets, so jobs target them by name, runs-on: small), ADMIN_TOKEN,
 * DOCKER_HOST, DEPLOYMENT_ID, and the ports make run uses.
 */

const SIM = 'http://127.0.0.1:8900';
const PORTS = { gateway: 8080, scheduler: 8081, 'pool-manager': 8082, executor: 8083, 'status-reporter': 8084, metrics: 8085 } as const;
const REPO = 'demo/hello-world';
const jobCount = Number(process.env['DEMO_JOBS'] ?? 24);
const timeoutMs = Number(process.env['DEMO_TIMEOUT_SECONDS'] ?? 300) * 1000;
const token = process.env['ADMIN_TOKEN'] ?? '';
const intake: DemoIntake = process.env['DEMO_INTAKE'] === 'scaleset' ? 'scaleset' : 'webhook';
/** runs-on for a pool: a scale set is reached by its name alone (its runners carry no other label). */
const runsOn = (pool: string): string[] => (intake === 'scaleset' ? [pool] : ['self-hosted', 'linux', pool]);
const deployment = process.env['DEPLOYMENT_ID'] ?? 'runnerhub';
const docker = createDockerClient(process.env['DOCKER_HOST'] ?? 'tcp://127.0.0.1:2375');
const started = Date.now();

interface SimJob {
  id: number;
  status: string;
  conclusion: string | null;
  runnerName: string | null;
  createdAt: string;
  startedAt: string | null;
}

async function call<T>(url: string, init: { method?: string; body?: unknown; auth?: boolean } = {}): Promise<T> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.auth === false ? {} : { authorization: `Bearer ${token}` }), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
const admin = <T>(service: keyof typeof PORTS, path: string) => call<T>(`http://127.0.0.1:${PORTS[service]}${path}`);
const sim = <T>(path: string, init: { method?: string; body?: unknown } = {}) => call<T>(`${SIM}${path}`, { ...init, auth: false });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`.padStart(4);

async function containers(): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${deployment}`] } });
  return list.map((c) => (c.Names[0] ?? '').replace(/^\//, ''));
}

/** This run's runners (an earlier demo's are in the same database), with every one that took a job of `jobs`. */
async function runners(jobs: readonly SimJob[] = []): Promise<DemoRunner[]> {
  return runnersOfRun((await admin<{ runners: DemoRunner[] }>('pool-manager', '/api/runners?limit=500')).runners, jobs, started);
}

async function main(): Promise<number> {
  // Runner volumes can only be followed from the start (Docker forgets their container).
  const leftovers = await watchLeftovers(docker, { deployment });
  // A newcomer should see a warm start: wait until the small pool's runner is up.
  const warmBy = Date.now() + 90_000;
  while (!(await runners()).some((r) => r.pool === 'small' && (r.state === 'starting' || r.state === 'idle'))) {
    if (Date.now() > warmBy) {
      console.log('demo: the small pool has no warm runner after 90 s; going on (see .run/logs/pool-manager.log)');
      break;
    }
    await sleep(1000);
  }
  console.log(`demo: intake ${intake === 'scaleset' ? 'runner scale sets (no webhooks)' : 'webhooks'}`);
  console.log(`demo: ${jobCount} jobs for pools small (1 warm runner) and large (none), one job no pool serves, one for pool broken`);
  const kinds = new Map<number, DemoJob['kind']>();
  const create = async (kind: DemoJob['kind'], labels: string[], command?: string) => {
    const job = await sim<SimJob>('/_sim/jobs', { method: 'POST', body: { repository: REPO, labels, workflowName: `demo ${kind}`, name: `${kind} job`, ...(command ? { command } : {}) } });
    kinds.set(job.id, kind);
    return job;
  };
  const unmatched = await create('unmatched', ['self-hosted', 'linux', 'gpu']);
  await create('broken', intake === 'scaleset' ? runsOn('broken') : ['self-hosted', 'broken']);
  // A steady trickle rather than one burst: warm runners get reused, cold ones get made.
  for (let i = 0; i < jobCount; i++) {
    await create(i % 2 === 0 ? 'small' : 'large', runsOn(i % 2 === 0 ? 'small' : 'large'), `echo "job ${i} on $RUNNER_NAME"; sleep 1`);
    await sleep(500);
  }

  const shouldRun = () => [...kinds].filter(([, k]) => k === 'small' || k === 'large').map(([id]) => id);
  let jobs: SimJob[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    jobs = (await sim<SimJob[]>('/_sim/jobs')).filter((j) => kinds.has(j.id));
    const mine = jobs.filter((j) => shouldRun().includes(j.id));
    const done = mine.filter((j) => j.status === 'completed').length;
    const running = mine.filter((j) => j.status === 'in_progress').length;
    const live = (await runners()).filter((r) => ['requested', 'registered', 'starting', 'idle', 'busy'].includes(r.state));
    const byPool = ['small', 'large', 'broken'].map((p) => `${p} ${live.filter((r) => r.pool === p).length}`).join(', ');
    console.log(`[${elapsed()}] jobs ${done}/${mine.length} done, ${running} running, ${mine.length - done - running} waiting | live runners: ${byPool} | containers ${(await containers()).length}`);
    if (done === mine.length || Date.now() > deadline) break;
    await sleep(2000);
  }

  // Settle: finished runners' containers go, surplus idle runners go after the pool's idle timeout.
  const settleBy = Date.now() + 60_000;
  let evidence: Evidence | undefined;
  for (;;) {
    const rs = await runners(jobs);
    const live = new Set(rs.filter((r) => ['requested', 'registered', 'starting', 'idle', 'busy'].includes(r.state)).map((r) => r.name));
    const inDocker = await containers();
    const atGitHub = (await sim<Array<{ name: string }>>('/_sim/runners')).map((r) => r.name);
    const why = await admin<{ reason: string; detail: string }>('scheduler', `/api/jobs/${unmatched.id}/why`).catch(() => ({ reason: 'unknown', detail: 'the scheduler has not heard of the job' }));
    const checkRuns = await sim<Array<{ externalId: string | null }>>('/_sim/check-runs');
    const brokenJob = [...kinds].find(([, k]) => k === 'broken')?.[0];
    const pools = await admin<{ pools: Array<{ name: string; lastError: string }> }>('pool-manager', '/api/pools');
    evidence = {
      intake,
      jobs: jobs.map((j) => ({ ...j, kind: kinds.get(j.id)! })),
      runners: rs,
      containers: inDocker,
      volumes: (await leftovers.leftovers()).volumes,
      githubRunners: atGitHub,
      unmatched: { jobId: unmatched.id, reason: why.reason, detail: why.detail, checkRun: checkRuns.some((c) => c.externalId === `runnerhub:${unmatched.id}:unmatched`) },
      broken: {
        pool: 'broken',
        lastError: pools.pools.find((p) => p.name === 'broken')?.lastError ?? rs.find((r) => r.pool === 'broken' && r.failure)?.failure ?? '',
        failedRunners: rs.filter((r) => r.pool === 'broken' && r.state === 'failed').length,
        checkRun: checkRuns.some((c) => c.externalId === `runnerhub:${brokenJob}:runner_failed`),
      },
    };
    const clean = inDocker.every((n) => live.has(n)) && atGitHub.filter((n) => n.startsWith('rh-')).every((n) => live.has(n)) && evidence.volumes.length === 0;
    if (clean || Date.now() > settleBy) break;
    await sleep(2000);
  }
  // The two jobs that were never meant to run are cancelled, as a person would.
  for (const [id, kind] of kinds) if (kind === 'unmatched' || kind === 'broken') await sim(`/_sim/jobs/${id}/cancel`, { method: 'POST' }).catch(() => undefined);

  leftovers.stop();
  const summary = summarize(evidence);
  const urls = {
    'the console': `http://127.0.0.1:${PORTS.metrics}/console`,
    'one screen of it all': 'npx runnerhub status   (runnerhub --help: jobs, why, pools, runners, ...; docs/cli.md)',
    'why that job waits': `npx runnerhub why ${unmatched.id}`,
    'jobs (scheduler)': `http://127.0.0.1:${PORTS.scheduler}/api/jobs`,
    'why a job waits': `http://127.0.0.1:${PORTS.scheduler}/api/jobs/${unmatched.id}/why`,
    'pools and runners': `http://127.0.0.1:${PORTS['pool-manager']}/api/pools`,
    'check runs': `http://127.0.0.1:${PORTS['status-reporter']}/api/reports`,
    'Prometheus metrics': `http://127.0.0.1:${PORTS.metrics}/metrics`,
    'API docs (any service)': `http://127.0.0.1:${PORTS.scheduler}/openapi.json`,
    'the simulated GitHub': `${SIM}/_sim/jobs`,
  };
  console.log(render(summary, urls));
  console.log(`  the console and the admin APIs want the token (sign in with it, or curl -H "Authorization: Bearer $(sed -n 's/^ADMIN_TOKENS=admin:write:\\([^,]*\\).*/\\1/p' .run/platform.env)" ...)`);
  mkdirSync('.demo', { recursive: true });
  writeFileSync('.demo/summary.json', `${JSON.stringify({ ...summary, finishedAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) }, null, 2)}\n`);
  console.log('  summary as JSON: .demo/summary.json\n');
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo: ${(err as Error).message}`);
    process.exit(2);
  },
);
