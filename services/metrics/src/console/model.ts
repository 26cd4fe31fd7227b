import type { HttpServer, Readiness } from '@runnerhub/platform';
import { RUNNERHUB_VERSION } from '@runnerhub/platform';
import { UPSTREAMS, type Upstream, type Upstreams } from './upstream.js';

/** What the pages show, as the services' admin APIs answer it (their field names). */

export interface Job {
  jobId: string;
  repo: string;
  workflowName: string;
  jobName: string;
  labels: string[];
  status: string;
  conclusion: string | null;
  match: string;
  pool: string | null;
  runnerName: string | null;
  createdAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
}
export interface Why {
  reason: string;
  detail: string;
  closestPools: { pool: string; missing: string[] }[];
  lastError: string | null;
  since: string | null;
}
export interface Pool {
  name: string;
  source: 'file' | 'api';
  labels: string[];
  drained: boolean;
  minIdle: number;
  warmNow: number;
  max: number;
  pending: number;
  running: number;
  runners: Record<string, number>;
  lastError: string;
  backoffUntil: string | null;
}
export interface Host {
  host: string;
  healthy: boolean;
  drained: boolean;
  draining: boolean;
  cpus: number;
  reservedCpus: number;
  memoryBytes: number;
  reservedMemoryBytes: number;
  running: number;
  maxContainers: number;
  images: string[];
}
export interface Runner {
  id: string;
  name: string;
  pool: string;
  host: string;
  state: string;
  jobId: string | null;
  failure: string | null;
  requestedAt: string;
}
export interface DeadLetter {
  seq: number;
  stream: string;
  consumer: string;
  subject: string;
  deliveries: number;
  reason: string;
  failedAt: string | null;
}
export interface ServiceState {
  name: string;
  ready: boolean | null;
  version: string | null;
  detail: string;
}

export interface NowModel {
  at: string;
  pools: Pool[];
  hosts: Host[];
  runners: Runner[];
  waiting: { job: Job; why: Why | null }[];
  recent: Job[];
  deadLetters: { total: number; letters: DeadLetter[] };
  services: ServiceState[];
  /** Services that did not answer, with why: the page says so instead of showing stale numbers. */
  problems: string[];
}

export interface ModelDeps {
  upstreams: Upstreams;
  /** The metrics service's own routes (dead letters), called in-process. */
  app: HttpServer;
  readiness: Readiness;
}

const WAITING = new Set(['queued', 'pending', 'waiting']);
const WAITING_SHOWN = 20;

/** Dead letters through this service's own admin API, with the caller's token. */
export async function deadLetters(app: HttpServer, token: string, limit: number): Promise<{ total: number; letters: DeadLetter[] }> {
  const answer = await app.inject({ url: `/api/dead-letters?limit=${limit}`, headers: { authorization: `Bearer ${token}` } });
  if (answer.statusCode !== 200) throw new Error(`dead letters: ${answer.json<{ message?: string }>().message ?? answer.statusCode}`);
  const body = answer.json<{ deadLetters: DeadLetter[]; total: number }>();
  return { total: body.total, letters: body.deadLetters };
}

export async function loadNow(deps: ModelDeps, token: string): Promise<NowModel> {
  const { upstreams } = deps;
  const problems: string[] = [];
  const get = async <T>(service: Upstream, path: string, fallback: T): Promise<T> => {
    try {
      return await upstreams.call<T>(service, path, token);
    } catch (error) {
      problems.push((error as Error).message);
      return fallback;
    }
  };
  const [pools, hosts, runners, jobs, dead, services] = await Promise.all([
    get('pool-manager', '/api/pools', { pools: [] as Pool[] }),
    get('pool-manager', '/api/hosts', { hosts: [] as Host[] }),
    get('pool-manager', '/api/runners?live=true&limit=200', { runners: [] as Runner[] }),
    get('scheduler', '/api/jobs?limit=100', { jobs: [] as Job[] }),
    deadLetters(deps.app, token, 10).catch((error: unknown) => {
      problems.push((error as Error).message);
      return { total: 0, letters: [] };
    }),
    Promise.all(UPSTREAMS.map(async (name) => ({ name, ...(await upstreams.probe(name)) }))),
  ]);
  const waitingJobs = jobs.jobs.filter((j) => WAITING.has(j.status)).slice(0, WAITING_SHOWN);
  const waiting = await Promise.all(
    waitingJobs.map(async (job) => ({ job, why: await upstreams.call<Why>('scheduler', `/api/jobs/${job.jobId}/why`, token).catch(() => null) })),
  );
  const self = deps.readiness.report();
  return {
    at: new Date().toISOString(),
    pools: pools.pools,
    hosts: hosts.hosts,
    runners: runners.runners,
    waiting,
    recent: jobs.jobs.slice(0, 10),
    deadLetters: dead,
    services: [
      ...services,
      { name: 'metrics', ready: self.ready, version: RUNNERHUB_VERSION, detail: self.ready ? 'ready' : self.phase },
    ],
    problems,
  };
}
