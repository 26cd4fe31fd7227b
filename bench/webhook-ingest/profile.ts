/**
 * Profiles the gateway under load: starts NATS, a scratch database and the gateway under
 * `node --cpu-prof`, drives it with autocannon, then prints CPU per request of the gateway and of
 * nats-server and where the .cpuprofile was written (open it in Chrome DevTools or speedscope).
 *
 *   node --conditions=runnerhub-source --import tsx bench/webhook-ingest/profile.ts [seconds] [profile dir]
 *
 * Runs the compiled gateway (`make build` first); BENCH_FROM=source runs its TypeScript through tsx.
 * PROFILE=0 runs without the profiler (CPU figures only); CONNECTIONS sets autocannon's connections (20),
 * RATE a fixed request rate (the bench's latency run is RATE=300 CONNECTIONS=10), PERF=1 lets
 * `perf record -g -p <gateway pid>` name JS functions.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { sign } from '@octokit/webhooks-methods';
import { createTestDatabase, startNatsServer, startServiceProcess, waitForReady } from '@runnerhub/testing';
import { cpuSeconds, pidOf, pidsOf, workflowJobPayload } from './load.js';

const SECONDS = Number(process.argv[2] ?? 10);
const DIR = process.argv[3] ?? '/tmp/webhook-gateway-profile';
const SECRET = 'bench-webhook-secret';

const nats = await startNatsServer();
const db = await createTestDatabase('bench_gateway_profile');
const profile = process.env.PROFILE !== '0' ? ['--cpu-prof', `--cpu-prof-dir=${DIR}`] : [];
// --cpu-prof samples wall time: a syscall that wakes another process is charged for the wait. For
// CPU only, PROFILE=0 PERF=1 and `perf record -g -p <gateway pid>` (JS frames via /tmp/perf-<pid>.map).
if (process.env.PERF === '1') profile.push('--perf-basic-prof');
// As its image runs it (compiled, after `make build`), unless BENCH_FROM=source.
const gateway = await startServiceProcess(
  'webhook-gateway',
  { LOG_LEVEL: 'warn', NATS_URL: nats.url, DATABASE_URL: db.url, GITHUB_WEBHOOK_SECRET: SECRET },
  { compiled: process.env.BENCH_FROM !== 'source', nodeArgs: profile },
);
const child = gateway.child;
const url = gateway.url;
try {
  await waitForReady(gateway);
  const payload = workflowJobPayload();
  const signature = await sign(SECRET, payload);
  const run = (duration: number) =>
    autocannon({
      url: `${url}/webhooks/github`,
      method: 'POST',
      connections: Number(process.env.CONNECTIONS ?? 20),
      duration,
      ...(process.env.RATE ? { overallRate: Number(process.env.RATE) } : {}),
      headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_job', 'x-hub-signature-256': signature },
      body: payload,
      requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-github-delivery': randomUUID() } }) }],
    });
  await run(2);
  const natsPid = pidOf(nats.storeDir);
  // Postgres names each backend process after its database: these are the gateway's connections.
  const pgPids = pidsOf(` ${new URL(db.url).pathname.slice(1)} `);
  const pg = () => pgPids.reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0);
  const before = { gw: cpuSeconds(child.pid!), nats: natsPid ? cpuSeconds(natsPid) : 0, pg: pg() };
  const r = await run(SECONDS);
  const total = r.requests.total;
  const us = (s: number) => ((s / total) * 1e6).toFixed(0);
  console.log(`${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non2xx ${r.non2xx}`);
  console.log(
    `CPU per request: gateway ${us(cpuSeconds(child.pid!) - before.gw)} µs, nats-server ${natsPid ? us(cpuSeconds(natsPid) - before.nats) : '?'} µs, ` +
      `Postgres (${pgPids.length} backends) ${us(pg() - before.pg)} µs`,
  );
  // Inside the gateway: request received -> PubAck, cumulative buckets (whole process life).
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const buckets = [...metrics.matchAll(/runnerhub_webhook_persist_duration_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/g)].map((m) => `≤${m[1]}s:${m[2]}`);
  console.log(`persist duration buckets: ${buckets.join(' ')}`);
} finally {
  gateway.kill('SIGINT');
  await gateway.exited;
  if (profile.length > 0) console.log(`profile written to ${DIR}`);
  await db.drop();
  await nats.stop();
}
