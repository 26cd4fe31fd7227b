// Runner containers per second through NATS and the container-executor, against a bare dockerode
// loop doing the same create → copy JIT file → start → wait → remove, at concurrency 1, 4 and 8,
// in the same run, through the same socket proxy; plus command-published → runner.started latency.
//
//   node --conditions=runnerhub-source --import tsx bench/executor/run.ts [containers per level]
//
// Not a test: it prints figures and ratios; nothing asserts a time.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { jetstream } from '@nats-io/jetstream';
import {
  contractsCodec,
  create,
  CreateRunnerCommandSchema,
  executorCommandSubject,
  NetworkMode,
  PullPolicy,
  RunnerRefSchema,
  streamDefinitions,
  type RunnerExited,
  type RunnerStarted,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { createDockerClient, jitArchive, JIT_DIR, runnerContainerSpec } from '@runnerhub/docker';
import { connectNats, createLogger, createPublisher, ensureStreams } from '@runnerhub/platform';
import { DOCKER_PROXY_URL, ensureTestImage, startNatsServer, startServiceProcess, waitFor, waitForReady } from '@runnerhub/testing';

const PER_LEVEL = Number(process.argv[2] ?? 16);
const LEVELS = [1, 4, 8];
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));
const log = createLogger({ service: 'bench', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const image = await ensureTestImage();
const run = randomBytes(3).toString('hex');
const limits = { cpus: 0.5, memoryBytes: 128 * 1024 * 1024, pidsLimit: 64 };

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function inParallel(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

/** The peer: what a hand-written dockerode loop does for one runner, with the same hardened spec. */
async function bare(concurrency: number): Promise<number> {
  const network = `rh-bench-bare-${run}`;
  await docker.createNetwork({ Name: network });
  const started = performance.now();
  await inParallel(PER_LEVEL, concurrency, async (i) => {
    const name = `rh-bench-bare-${run}-${concurrency}-${i}`;
    const container = await docker.createContainer(
      runnerContainerSpec({
        deploymentId: `bench-bare-${run}`,
        host: 'bench',
        pool: 'bench',
        runnerId: name,
        runnerName: name,
        jobId: '0',
        image,
        command: ['true'],
        env: {},
        ...limits,
        cacheVolumes: [],
        networkName: network,
        dockerInJob: 'none',
        readOnlyRoot: false,
      }),
    );
    await container.putArchive(await jitArchive('jit', { uid: 1001, gid: 1001 }), { path: JIT_DIR });
    await container.start();
    await container.wait();
    await container.remove({ force: true, v: true });
  });
  const seconds = (performance.now() - started) / 1000;
  await docker.getNetwork(network).remove();
  return PER_LEVEL / seconds;
}

const nats = await startNatsServer();
const nc = await connectNats({ servers: nats.url, name: 'bench', log });
await ensureStreams(nc, Object.values(streamDefinitions));
const startedAt = new Map<string, number>();
const exitedAt = new Map<string, number>();
const publishedAt = new Map<string, number>();
const consumer = await jetstream(nc).consumers.get('RUNNERS');
const messages = await consumer.consume();
void (async () => {
  for await (const m of messages) {
    const fact = contractsCodec.decode(m.subject, m.data) as RunnerStarted | RunnerExited;
    const id = fact.runner?.runnerId ?? '';
    if (m.subject === 'runner.started') startedAt.set(id, performance.now());
    if (m.subject === 'runner.exited') exitedAt.set(id, performance.now());
  }
})();
const host = `bench-${run}`;
const executor = await startServiceProcess('container-executor', {
  NATS_URL: nats.url,
  DOCKER_HOST: DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'),
  EXECUTOR_HOST_ID: host,
  DEPLOYMENT_ID: `bench-${run}`,
  // As many creates in flight as the highest level, as the bare loop has.
  EXECUTOR_CREATE_CONCURRENCY: String(Math.max(...LEVELS)),
  LOG_LEVEL: 'warn',
});
await waitForReady(executor);
const publisher = createPublisher<SubjectMessages>(nc, contractsCodec);

/** RunnerHub: create commands through JetStream; done when every runner.exited arrived (containers removed right after). */
async function viaExecutor(concurrency: number, networkMode: NetworkMode): Promise<{ perSecond: number; latencies: number[] }> {
  const ids = Array.from({ length: PER_LEVEL }, (_, i) => `x-${concurrency}-${networkMode}-${i}`);
  const started = performance.now();
  // `concurrency` commands in flight, as a pool-manager creating that many runners at once would.
  await inParallel(PER_LEVEL, concurrency, async (i) => {
    const id = ids[i]!;
    publishedAt.set(id, performance.now());
    await publisher.publish(
      executorCommandSubject(host, 'create'),
      create(CreateRunnerCommandSchema, {
        runner: create(RunnerRefSchema, { runnerId: id, runnerName: `rh-bench-${run}-${id}`, pool: 'bench', host }),
        image,
        command: ['true'],
        pullPolicy: PullPolicy.NEVER,
        limits: { cpus: limits.cpus, memoryBytes: BigInt(limits.memoryBytes), pidsLimit: limits.pidsLimit },
        jitConfig: 'jit',
        networkMode,
        networkName: networkMode === NetworkMode.POOL ? `rh-bench-pool-${run}` : '',
      }),
      { msgId: `bench-${run}-${id}` },
    );
    await waitFor(() => exitedAt.has(id), { timeoutMs: 120_000, intervalMs: 5, what: `runner ${id} exited` });
  });
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: PER_LEVEL / seconds, latencies: ids.map((id) => (startedAt.get(id) ?? 0) - (publishedAt.get(id) ?? 0)) };
}

console.log(`executor bench: ${PER_LEVEL} runner containers per level, image ${image}, through ${DOCKER_PROXY_URL}`);
console.log('Both sides use one shared network; the last column is the executor with its default network per runner (safer, slower).');
console.log('concurrency  bare dockerode/s  executor/s  ratio  command→started p50/p95 ms  per-runner network/s (ratio)');
for (const concurrency of LEVELS) {
  const peer = await bare(concurrency);
  const ours = await viaExecutor(concurrency, NetworkMode.POOL);
  const isolated = await viaExecutor(concurrency, NetworkMode.PER_RUNNER);
  console.log(
    `${String(concurrency).padStart(11)}  ${peer.toFixed(2).padStart(16)}  ${ours.perSecond.toFixed(2).padStart(10)}  ${(ours.perSecond / peer).toFixed(2).padStart(5)}  ${`${percentile(ours.latencies, 50).toFixed(0)}/${percentile(ours.latencies, 95).toFixed(0)}`.padStart(26)}  ${isolated.perSecond.toFixed(2)} (${(isolated.perSecond / peer).toFixed(2)})`,
  );
}
await docker.getNetwork(`rh-bench-pool-${run}`).remove().catch(() => undefined);
executor.kill('SIGTERM');
await executor.exited;
await nc.close();
await nats.stop();
