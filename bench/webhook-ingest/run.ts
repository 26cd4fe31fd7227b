/**
 * bench/webhook-ingest: our webhook-gateway (verify + JetStream PubAck before 202, file store)
 * against the Node peers a user would pick instead, on the same signed workflow_job payload, in the
 * same run: the like-for-like one, a Probot app whose handler publishes the delivery to the same
 * JetStream stream with the same Nats-Msg-Id and awaits the PubAck (issue 28's goals: throughput
 * ≥ 1.0x, p99 at 300 req/s no worse, printed as PASS/MISS), and, as the floor of verifying alone, a
 * plain Probot app and @octokit/webhooks' createNodeMiddleware, which persist nothing. Prints req/s,
 * latency p50/p99, server CPU per request (alone and with nats-server) and ratios.
 *
 *   node --conditions=runnerhub-source --import tsx bench/webhook-ingest/run.ts [seconds]
 *
 * The load generator shares the machine with the servers, so req/s moves with whatever else runs;
 * CPU per request (user + system time of the server processes during the max-throughput run,
 * divided by the requests answered) is the steadier figure. Ours counts the gateway and
 * nats-server, since persisting is part of its job.
 *
 * On a box where the load generator and every server share the cores, the throughput ratio is
 * bounded by the ratio of the whole box's CPU per request (load generator + servers, including the
 * Postgres backends that write the delivery log): the last lines print both, so a run shows how far
 * the gateway is from that bound and what it would take to move it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sign } from '@octokit/webhooks-methods';
import { createTestDatabase, freePort, repoRoot, startNatsServer, startServiceProcess, waitFor } from '@runnerhub/testing';
import { cpuSeconds, pidOf, pidsOf, workflowJobPayload } from './load.js';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = 20;
const FIXED_RATE = 300;
const SECRET = 'bench-webhook-secret';

const payload = workflowJobPayload();
const signature = await sign(SECRET, payload);

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  fixedP99: number;
  /** Server CPU (user + system) per request in the max-throughput run, microseconds: the server process and, for those that persist, nats-server. */
  cpuUs: number;
  /** The server process alone, µs per request (without nats-server). */
  processUs: number;
  /** CPU per request of everything else the target needs on the box (our Postgres backends), µs. */
  sideUs: number;
  /** CPU per request of the load generator (this process) in the same run, µs. */
  loadUs: number;
}

async function load(url: string, opts: { duration: number; overallRate?: number }) {
  return autocannon({
    url: `${url}/webhooks/github`,
    method: 'POST',
    connections: opts.overallRate ? 10 : CONNECTIONS,
    duration: opts.duration,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_job', 'x-hub-signature-256': signature },
    body: payload,
    // A fresh delivery GUID per request: the gateway must really persist each one, not dedup it.
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-github-delivery': randomUUID() } }) }],
  });
}

async function measure(name: string, url: string, pids: number[], sidePids: () => number[] = () => []): Promise<Figures> {
  await load(url, { duration: 2 }); // warm-up: JIT, connection pools
  const sum = (list: number[]) => list.reduce((total, pid) => total + (cpuSeconds(pid) || 0), 0);
  const side = sidePids(); // after the warm-up, so the pool's connections exist
  const before = { cpu: sum(pids), main: sum(pids.slice(0, 1)), side: sum(side), load: process.cpuUsage() };
  const max = await load(url, { duration: SECONDS });
  const perRequest = (seconds: number) => (seconds / max.requests.total) * 1e6;
  const loadCpu = process.cpuUsage(before.load);
  const figures = {
    cpuUs: perRequest(sum(pids) - before.cpu),
    processUs: perRequest(sum(pids.slice(0, 1)) - before.main),
    sideUs: perRequest(sum(side) - before.side),
    loadUs: perRequest((loadCpu.user + loadCpu.system) / 1e6),
  };
  const fixed = await load(url, { duration: SECONDS, overallRate: FIXED_RATE });
  return { name, rps: max.requests.average, p50: max.latency.p50, p99: max.latency.p99, errors: max.errors + fixed.errors, non2xx: max.non2xx + fixed.non2xx, fixedP99: fixed.latency.p99, ...figures };
}

function startPeer(kind: 'probot' | 'octokit' | 'probot-persist', port: number, natsUrl = ''): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./peers.ts', import.meta.url)), kind, String(port), SECRET, natsUrl], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${kind} peer exited with ${code}`)));
  });
}

const nats = await startNatsServer();
const db = await createTestDatabase('bench_gateway');
// As its image runs it: compiled (make build), with the images' V8 settings unless BENCH_NODE_OPTIONS says otherwise.
const gateway = await startServiceProcess(
  'webhook-gateway',
  { NATS_URL: nats.url, DATABASE_URL: db.url, GITHUB_WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'warn', ...(process.env.BENCH_NODE_OPTIONS === undefined ? {} : { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS }) },
  { compiled: process.env.BENCH_FROM !== 'source' },
);
const probotPort = await freePort();
const octokitPort = await freePort();
const persistPort = await freePort();
const peers = [await startPeer('probot', probotPort), await startPeer('octokit', octokitPort)];
try {
  await waitFor(async () => (await fetch(`${gateway.url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 60_000, what: 'gateway ready' });
  const natsPid = pidOf(nats.storeDir);
  // After the gateway is ready: it made the GITHUB stream the persisting peer publishes to.
  peers.push(await startPeer('probot-persist', persistPort, nats.url));
  const results: Figures[] = [];
  // Postgres names each backend process after its database: these write the gateway's delivery log.
  const pgBackends = () => pidsOf(` ${new URL(db.url).pathname.slice(1)} `);
  results.push(await measure('runnerhub webhook-gateway (JetStream file store, 202 after PubAck)', gateway.url, [gateway.child.pid!, ...(natsPid ? [natsPid] : [])], pgBackends));
  results.push(await measure('probot 14 + JetStream publish, PubAck awaited (same stream, msgId)', `http://127.0.0.1:${persistPort}`, [peers[2]!.pid!, ...(natsPid ? [natsPid] : [])]));
  results.push(await measure('probot 14 createNodeMiddleware (no persistence)', `http://127.0.0.1:${probotPort}`, [peers[0]!.pid!]));
  results.push(await measure('@octokit/webhooks createNodeMiddleware (no persistence)', `http://127.0.0.1:${octokitPort}`, [peers[1]!.pid!]));

  const ours = results[0]!;
  const persisting = results[1]!;
  console.log(`\nwebhook-ingest: ${SECONDS}s max-throughput run (${CONNECTIONS} connections) + ${SECONDS}s at ${FIXED_RATE} req/s, same signed workflow_job payload; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores\n`);
  console.log('target'.padEnd(70), 'req/s'.padStart(8), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), `p99@${FIXED_RATE}`.padStart(9), 'CPU µs/req'.padStart(11), '+ nats'.padStart(8), 'errors'.padStart(7), 'non2xx'.padStart(7));
  for (const r of results) {
    console.log(
      r.name.padEnd(70),
      r.rps.toFixed(0).padStart(8),
      r.p50.toFixed(1).padStart(8),
      r.p99.toFixed(1).padStart(8),
      r.fixedP99.toFixed(1).padStart(9),
      r.processUs.toFixed(0).padStart(11),
      (r.cpuUs === r.processUs ? '—' : r.cpuUs.toFixed(0)).padStart(8),
      String(r.errors).padStart(7),
      String(r.non2xx).padStart(7),
    );
  }
  console.log('(CPU µs/req: the server process alone; + nats: with nats-server, for the two that persist. The gateway also writes its delivery log to Postgres behind the response: see the whole-box line)');
  if (!natsPid) console.log('(nats-server not found in /proc: the CPU figures with nats-server leave it out)');
  for (const peer of results.slice(1)) {
    console.log(`ratio vs ${peer.name.split(' (')[0]}: ${(ours.rps / peer.rps).toFixed(2)}x throughput, ${(peer.cpuUs / ours.cpuUs).toFixed(2)}x CPU efficiency (with nats-server where it persists)`);
  }
  const probot = results[2]!;
  const box = (r: Figures) => r.cpuUs + r.sideUs + r.loadUs;
  console.log(
    `whole-box CPU per request (load generator + servers): ours ${box(ours).toFixed(0)} µs (gateway + nats-server ${ours.cpuUs.toFixed(0)}, Postgres ${ours.sideUs.toFixed(0)}, load ${ours.loadUs.toFixed(0)}), ` +
      `persisting probot ${box(persisting).toFixed(0)} µs (server + nats-server ${persisting.cpuUs.toFixed(0)}, load ${persisting.loadUs.toFixed(0)}), ` +
      `probot ${box(probot).toFixed(0)} µs (server ${probot.cpuUs.toFixed(0)}, load ${probot.loadUs.toFixed(0)})`,
  );
  // Issue 28's goals against the peer that persists as the gateway does.
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  console.log(`\ngoal: gateway throughput ≥ 1.0x the persisting Probot app: ${(ours.rps / persisting.rps).toFixed(2)}x  ${verdict(ours.rps >= persisting.rps)}`);
  console.log(`goal: gateway p99 at ${FIXED_RATE} req/s no worse than the persisting Probot app's: ${ours.fixedP99.toFixed(1)} ms vs ${persisting.fixedP99.toFixed(1)} ms  ${verdict(ours.fixedP99 <= persisting.fixedP99)}`);
  console.log(`stored in JetStream: ${(await (await fetch(`${gateway.url}/metrics`)).text()).match(/runnerhub_webhook_deliveries_total\{[^}]*outcome="published"[^}]*\} (\d+)/)?.[1] ?? '?'} published deliveries`);
} finally {
  gateway.kill('SIGTERM');
  await gateway.exited;
  for (const p of peers) p.kill('SIGTERM');
  await db.drop();
  await nats.stop();
}
