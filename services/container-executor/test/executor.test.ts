import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  contractsCodec,
  create,
  CreateRunnerCommandSchema,
  executorCommandSubject,
  InventoryRequestSchema,
  PullPolicy,
  RemoveRunnerCommandSchema,
  RunnerRefSchema,
  streamDefinitions,
  type ExecutorHeartbeat,
  type InventoryResponse,
  type RunnerExited,
  type RunnerFailed,
  type RunnerStarted,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { createDockerClient, LABEL, ownershipLabels } from '@runnerhub/docker';
import { connectNats, createLogger, createPublisher, ensureStreams } from '@runnerhub/platform';
import {
  DOCKER_PROXY_URL,
  ensureTestImage,
  parsePrometheusText,
  sampleValue,
  startNatsServer,
  startServiceProcess,
  startTcpProxy,
  waitFor,
  waitForReady,
  type NatsServer,
  type ServiceProcess,
  type TcpProxy,
} from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const suffix = randomBytes(3).toString('hex');
const HOST = `test-${suffix}`;
const DEPLOYMENT = `exec-test-${suffix}`;
const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));
// Fixtures that are not runner specs (the socket guard refuses those at create), made on the socket itself.
const raw = createDockerClient('unix:///var/run/docker.sock');

interface CommandPatch {
  command?: string[];
  image?: string;
  pullPolicy?: PullPolicy;
  limits?: { cpus: number; memoryBytes: bigint; pidsLimit: number };
}

interface Fact {
  subject: string;
  message: unknown;
}

describe('container-executor against the real Docker engine, through the socket proxy', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let dockerLink: TcpProxy;
  let executor: ServiceProcess;
  let image: string;
  const facts: Fact[] = [];
  const publisher = () => createPublisher<SubjectMessages>(nc, contractsCodec);

  const started = (runnerId: string) => facts.filter((f) => f.subject === 'runner.started' && (f.message as RunnerStarted).runner?.runnerId === runnerId);
  const exited = (runnerId: string) => facts.find((f) => f.subject === 'runner.exited' && (f.message as RunnerExited).runner?.runnerId === runnerId)?.message as RunnerExited | undefined;

  function command(runnerId: string, init: CommandPatch = {}) {
    return create(CreateRunnerCommandSchema, {
      runner: create(RunnerRefSchema, { runnerId, runnerName: `rh-t-${suffix}-${runnerId}`, pool: 't', host: HOST }),
      image,
      command: ['sh', '-c', 'echo started; exit 0'],
      pullPolicy: PullPolicy.NEVER,
      limits: { cpus: 0.5, memoryBytes: 128n * 1024n * 1024n, pidsLimit: 64 },
      jitConfig: `jit-secret-${runnerId}-${randomBytes(8).toString('hex')}`,
      ...init,
    });
  }

  const send = (runnerId: string, init: CommandPatch = {}, msgId = `create-${runnerId}`) =>
    publisher().publish(executorCommandSubject(HOST, 'create'), command(runnerId, init), { msgId });

  const containersOf = async (deployment: string) =>
    docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${deployment}`] } });

  beforeAll(async () => {
    image = await ensureTestImage();
    nats = await startNatsServer();
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await ensureStreams(nc, Object.values(streamDefinitions));
    // Every runner fact and host report, as stored in JetStream (duplicates already dropped there).
    const js = jetstream(nc);
    for (const stream of ['RUNNERS', 'HOSTS']) {
      const consumer = await js.consumers.get(stream);
      const messages = await consumer.consume();
      void (async () => {
        for await (const m of messages) facts.push({ subject: m.subject, message: contractsCodec.decode(m.subject, m.data) });
      })();
    }
    // A cuttable link in front of the socket proxy, to break the executor's event feed on purpose.
    const proxy = new URL(DOCKER_PROXY_URL);
    dockerLink = await startTcpProxy({ targetHost: proxy.hostname, targetPort: Number(proxy.port) });
    executor = await startServiceProcess('container-executor', {
      NATS_URL: nats.url,
      DOCKER_HOST: `tcp://127.0.0.1:${dockerLink.port}`,
      EXECUTOR_HOST_ID: HOST,
      DEPLOYMENT_ID: DEPLOYMENT,
      EXECUTOR_HEARTBEAT_SECONDS: '1',
      EXECUTOR_STRAY_NETWORK_SECONDS: '1',
      // Short, so a Docker call swallowed by the black-holed link below is dropped within the test.
      DOCKER_IDLE_TIMEOUT_SECONDS: '4',
      LOG_LEVEL: 'warn',
    });
    await waitForReady(executor);
  }, 120_000);

  afterAll(async () => {
    executor?.kill('SIGTERM');
    await executor?.exited;
    for (const c of [...(await containersOf(DEPLOYMENT)), ...(await containersOf(`${DEPLOYMENT}-other`))]) {
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    }
    for (const n of await docker.listNetworks({ filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`] } })) {
      await docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
    await dockerLink?.close();
    await nc?.close();
    await nats?.stop();
  });

  const spareNetworks = async () => (await docker.listNetworks({ filters: { label: [`${LABEL.deployment}=${DEPLOYMENT}`, `${LABEL.spareNetwork}=true`] } })).map((n) => n.Name);

  it('runs a runner container on a network made ahead: create → start → exit → remove, with its network, and reports the exit', async () => {
    // The executor keeps four networks ready (EXECUTOR_SPARE_NETWORKS' default).
    await waitFor(async () => (await spareNetworks()).length === 4, { what: `four spare networks\n${executor.output()}` });
    await send('a', { command: ['sh', '-c', 'echo "about to fail"; sleep 2; exit 3'] });
    await waitFor(() => started('a').length === 1, { what: `runner.started for a\n${executor.output()}` });
    const network = (await docker.getContainer(`rh-t-${suffix}-a`).inspect()).Config.Labels[LABEL.ownNetwork]!;
    expect(network).toMatch(/^rh-net-/);
    const fact = await waitFor(() => exited('a'), { what: `runner.exited for a\n${executor.output()}`, timeoutMs: 25_000 });
    expect(started('a')).toHaveLength(1);
    expect(fact.exitCode).toBe(3);
    expect(fact.oomKilled).toBe(false);
    expect(fact.lastLogLines).toContain('about to fail');
    await waitFor(async () => (await containersOf(DEPLOYMENT)).every((c) => c.Labels[LABEL.runnerId] !== 'a'), { what: 'container a removed' });
    // The runner's network goes right after its container, and the stock is made up again.
    await waitFor(async () => (await docker.listNetworks({ filters: { name: [network] } })).length === 0, { what: "runner a's network removed" });
    await waitFor(async () => { const spares = await spareNetworks(); return spares.length === 4 && !spares.includes(network); }, { what: 'four spare networks again' });
    // Each step of the create is on /metrics, so a slow cold start can be traced to its step.
    const metrics = parsePrometheusText(await (await fetch(`${executor.url}/metrics`)).text());
    for (const step of ['lookup', 'image', 'network', 'create', 'archive', 'start', 'report']) {
      expect(sampleValue(metrics, 'runnerhub_executor_create_step_seconds_count', { step }), step).toBe(1);
    }
  });

  it('keeps the JIT config out of docker inspect and removes a running runner on command', async () => {
    const cmd = command('b', { command: ['sh', '-c', 'sleep 60'] });
    await publisher().publish(executorCommandSubject(HOST, 'create'), cmd, { msgId: 'create-b' });
    await waitFor(() => started('b').length === 1, { what: 'runner.started for b' });
    const info = await docker.getContainer(cmd.runner!.runnerName).inspect();
    expect(JSON.stringify(info.Config)).not.toContain(cmd.jitConfig);
    expect(JSON.stringify(info)).not.toContain(cmd.jitConfig);
    expect(info.HostConfig).toMatchObject({ Privileged: false, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges:true'], PidsLimit: 64, Memory: 128 * 1024 * 1024 });
    expect(info.Mounts.some((m) => JSON.stringify(m).includes('docker.sock'))).toBe(false);

    await publisher().publish(executorCommandSubject(HOST, 'remove'), create(RemoveRunnerCommandSchema, { runner: cmd.runner }), { msgId: 'remove-b' });
    const fact = await waitFor(() => exited('b'), { what: 'runner.exited for b', timeoutMs: 30_000 });
    expect(fact.exitCode).not.toBe(0);
    await waitFor(async () => (await containersOf(DEPLOYMENT)).every((c) => c.Labels[LABEL.runnerId] !== 'b'), { what: 'container b removed' });
  });

  it('makes one container for a redelivered create command', async () => {
    await send('c', { command: ['sh', '-c', 'sleep 2'] }, 'create-c-1');
    await send('c', { command: ['sh', '-c', 'sleep 2'] }, 'create-c-2');
    await waitFor(() => started('c').length >= 1, { what: 'runner.started for c' });
    const containers = (await containersOf(DEPLOYMENT)).filter((c) => c.Labels[LABEL.runnerId] === 'c');
    expect(containers.length).toBeLessThanOrEqual(1);
    await waitFor(() => exited('c'), { what: 'runner.exited for c', timeoutMs: 30_000 });
    expect(started('c')).toHaveLength(1);
  });

  it('reports an OOM-killed runner as such', async () => {
    // tail keeps the last 200 MB in memory; the limit is 64 MiB.
    await send('d', { command: ['sh', '-c', 'head -c 200000000 /dev/zero | tail -c 200000000 > /dev/null'], limits: { cpus: 0.5, memoryBytes: 64n * 1024n * 1024n, pidsLimit: 64 } });
    const fact = await waitFor(() => exited('d'), { what: 'runner.exited for d', timeoutMs: 60_000 });
    expect(fact.oomKilled).toBe(true);
    expect(fact.exitCode).toBe(137);
  });

  it('loses no exit while its Docker event feed is cut', async () => {
    await send('e', { command: ['sh', '-c', 'sleep 3; exit 5'] });
    await waitFor(() => started('e').length === 1, { what: 'runner.started for e' });
    await dockerLink.cut();
    // The container exits while the executor cannot hear Docker.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(exited('e')).toBeUndefined();
    await dockerLink.restore();
    const fact = await waitFor(() => exited('e'), { what: 'runner.exited for e after the link came back', timeoutMs: 40_000 });
    expect(fact.exitCode).toBe(5);
  });

  it('drops Docker calls that hang, then creates the runner and reports its exit', async () => {
    // A frozen link: the executor's requests (the create's first look, the event feed, heartbeats)
    // are taken and never answered, and those connections never come back.
    dockerLink.blackhole();
    await send('h', { command: ['sh', '-c', 'sleep 2; exit 4'] });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(started('h')).toHaveLength(0);
    await dockerLink.restore();
    // Before the idle timeout the create waited on its dead connection for good (and every
    // redelivery of the command queued behind it); now it is retried on a new one.
    await waitFor(() => started('h').length === 1, { what: `runner.started for h after the link came back\n${executor.output()}`, timeoutMs: 40_000 });
    const fact = await waitFor(() => exited('h'), { what: 'runner.exited for h', timeoutMs: 40_000 });
    expect(fact.exitCode).toBe(4);
    await waitFor(async () => (await containersOf(DEPLOYMENT)).every((c) => c.Labels[LABEL.runnerId] !== 'h'), { what: 'container h removed' });
  }, 90_000);

  it("answers inventory with this deployment's containers only, and leaves another deployment's alone", async () => {
    const foreign = await raw.createContainer({
      Image: image,
      name: `rh-other-${suffix}`,
      Cmd: ['true'],
      Labels: ownershipLabels({ deploymentId: `${DEPLOYMENT}-other`, host: HOST, pool: 't', runnerId: 'x', runnerName: `rh-other-${suffix}`, jobId: '0' }),
    });
    await foreign.start();
    await foreign.wait();
    await send('f', { command: ['sh', '-c', 'sleep 30'] });
    await waitFor(() => started('f').length === 1, { what: 'runner.started for f' });
    await publisher().publish(executorCommandSubject(HOST, 'inventory'), create(InventoryRequestSchema, { requestId: 'inv-1' }), { msgId: 'inv-1' });
    const answer = await waitFor(
      () => facts.find((f) => f.subject === `executor.inventory.${HOST}` && (f.message as InventoryResponse).requestId === 'inv-1')?.message as InventoryResponse | undefined,
      { what: 'inventory answer' },
    );
    expect(answer.containers.map((c) => c.runnerId)).toEqual(['f']);
    // A runner network whose container never came (the executor died in between) is swept up.
    const stray = await docker.createNetwork({ Name: `rh-t-${suffix}-stray`, Labels: ownershipLabels({ deploymentId: DEPLOYMENT, host: HOST, pool: 't', runnerId: 'stray', runnerName: `rh-t-${suffix}-stray`, jobId: '0' }) });
    // So is a spare network a previous executor made and no runner took.
    const oldSpare = await docker.createNetwork({
      Name: `rh-net-t${suffix}`,
      Labels: { ...ownershipLabels({ deploymentId: DEPLOYMENT, host: HOST, pool: '', runnerId: '', runnerName: '', jobId: '0' }), [LABEL.spareNetwork]: 'true' },
    });
    // The executor re-lists every 15 s; the foreign exited container must still be there after one pass.
    await new Promise((resolve) => setTimeout(resolve, 16_000));
    expect((await foreign.inspect()).State.Status).toBe('exited');
    expect(await stray.inspect().then(() => 'still there', () => 'removed')).toBe('removed');
    expect(await oldSpare.inspect().then(() => 'still there', () => 'removed')).toBe('removed');
    // The executor's own stock of four spares stays (runner f runs on a fifth, taken one). One more
    // may be there for a while: a spare an earlier test's runner took less than a minute ago, whose
    // network the sweep leaves alone until the stock's hand-out window ends (network-stock.ts).
    const named = new Set((await containersOf(DEPLOYMENT)).map((c) => c.Labels[LABEL.ownNetwork]));
    const unnamed = (await spareNetworks()).filter((n) => !named.has(n)).length;
    expect(unnamed).toBeGreaterThanOrEqual(4);
    expect(unnamed).toBeLessThanOrEqual(5);
    const beat = facts.filter((f) => f.subject === `executor.heartbeat.${HOST}`).at(-1)?.message as ExecutorHeartbeat | undefined;
    expect(beat?.runningContainers).toBe(1);
    expect(beat?.images).toContain(image);
    await publisher().publish(executorCommandSubject(HOST, 'remove'), create(RemoveRunnerCommandSchema, { runner: { runnerId: 'f', runnerName: `rh-t-${suffix}-f`, pool: 't', host: HOST } }), { msgId: 'remove-f' });
    await waitFor(() => exited('f'), { what: 'runner.exited for f' });
  }, 60_000);

  it('removes a runner container that was created but never started', async () => {
    const name = `rh-t-${suffix}-h`;
    await raw.createContainer({ Image: image, name, Cmd: ['true'], Labels: ownershipLabels({ deploymentId: DEPLOYMENT, host: HOST, pool: 't', runnerId: 'h', runnerName: name, jobId: '0' }) });
    await publisher().publish(executorCommandSubject(HOST, 'remove'), create(RemoveRunnerCommandSchema, { runner: create(RunnerRefSchema, { runnerId: 'h', runnerName: name, pool: 't', host: HOST }) }), { msgId: 'remove-h' });
    await waitFor(async () => (await containersOf(DEPLOYMENT)).every((c) => c.Labels[LABEL.runnerId] !== 'h'), { what: 'the created container removed' });
  });

  it('reports a runner it cannot make as failed, with the reason', async () => {
    await send('g', { image: 'runnerhub/not-there:1', pullPolicy: PullPolicy.NEVER });
    const failed = await waitFor(() => facts.find((f) => f.subject === 'runner.failed' && (f.message as RunnerFailed).runner?.runnerId === 'g')?.message as RunnerFailed | undefined, {
      what: 'runner.failed for g',
    });
    expect(failed.message).toMatch(/not on host and the pull policy is never/);
  });
});
