import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import { streamDefinitions } from '@runnerhub/contracts';
import { createDockerClient, LABEL, watchLeftovers, type LeftoverWatch, type Leftovers } from '@runnerhub/docker';
import { startGitHubSim, type GitHubSim, type SimOptions } from '@runnerhub/github-sim';
import { sectionOf } from '@runnerhub/all-in-one';
import { connectNats, createLogger, ensureStreams } from '@runnerhub/platform';
import { createTestDatabase, DOCKER_PROXY_URL, freePort, REDIS_URL, repoRoot, startNatsServer, startServiceProcess, startTcpProxy, waitForReady, type DockerEngine, type NatsServer, type ServiceProcess, type TcpProxy, type TestDatabase } from '@runnerhub/testing';

/**
 * The whole platform on this machine, as `make run` runs it: the GitHub simulator (playing the App
 * and sending signed webhooks), a private NATS server, a fresh database, and the six services as
 * their own processes from source, on the real Docker engine through the socket proxy with the
 * fake runner image (and the actions-runner stand-in when a pool names it). For the whole-path tests and the platform benchmarks; nothing is stubbed.
 */

/** The runner images a platform's pools may name: our fake runner, and the stand-in for the official one. */
export const RUNNER_IMAGES = { fake: 'runnerhub/fake-runner:dev', actionsRunner: 'runnerhub/actions-runner:dev' } as const;

export const SERVICES = ['container-executor', 'pool-manager', 'scheduler', 'webhook-gateway', 'status-reporter', 'metrics'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface PlatformOptions {
  /** The POOLS_FILE text; runners of the fake runner image for `acme/app` are the usual choice. */
  pools: string;
  /** Repositories of the simulator's installation for `acme`. Default: app. */
  repositories?: string[];
  /** Those of `repositories` that are public (the others are private). */
  publicRepositories?: string[];
  /** Which services to start (in this order). Default: all six. */
  services?: readonly ServiceName[];
  /** Extra variables per service (tuning periods, limits). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** More ADMIN_TOKENS entries (name:scope:token) beside the platform's own write token. */
  extraAdminTokens?: string[];
  /** Extra variables for every service (an OTLP endpoint, say). */
  common?: Record<string, string>;
  /** Simulator timings: how soon GitHub fails the job of a runner that stopped renewing, say. */
  sim?: Pick<SimOptions, 'lostRunnerSeconds' | 'runnerHeartbeatSeconds' | 'queuedJobTimeoutSeconds' | 'scaleSets' | 'flavour'>;
  /** false: the simulator sends no webhook at all (a NAS behind NAT; jobs come through scale sets). Default true. */
  webhooks?: boolean;
  /** Run the services from `dist/` (after `make build`), as their images do, instead of from source. */
  compiled?: boolean;
  /**
   * Run the services in one process (services/all-in-one), each with its own section and port,
   * instead of one process each. Default: E2E_ALL_IN_ONE=1 in the environment, so any suite runs in
   * that mode unchanged. Extra executors (startExecutor) stay processes of their own.
   */
  allInOne?: boolean;
  /** Extra node flags per service (bench profiles: --cpu-prof). */
  nodeArgs?: Partial<Record<ServiceName, string[]>>;
  /**
   * Servers the test owns (so it may stop them), instead of a private NATS and a database on the
   * shared Postgres and Redis: a NATS server (or cluster member) it started, an admin URL of its own
   * Postgres (the platform's database is made there), and a Redis URL.
   */
  own?: { nats?: NatsServer; natsUrls?: string[]; postgresAdminUrl?: string; redisUrl?: string };
}

/** Where a second executor runs: the platform's own Docker engine, or another engine in its own namespace. */
export interface ExecutorPlacement {
  /** A Docker engine of its own (libs/testing startDockerEngine): the executor runs in its namespace,
   * reaches Docker through that engine's socket proxy and NATS over the veth. */
  engine?: DockerEngine;
}

export interface Platform {
  sim: GitHubSim;
  nats: NatsServer;
  nc: NatsConnection;
  /** The Docker deployment id of this platform: its containers and networks carry it as a label. */
  deployment: string;
  /** The executor's host id. */
  host: string;
  /** The platform's database (every service's schema): what a backup dumps. */
  databaseUrl: string;
  token: string;
  /** A token of scope read (the write token is `token`). */
  readToken: string;
  services: Partial<Record<ServiceName, ServiceProcess>>;
  /** An admin API call with the write token. */
  api<T = unknown>(service: ServiceName, path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  /** Stops a service (SIGKILL by default: a power cut) and starts it again with the same settings. */
  restart(service: ServiceName, signal?: NodeJS.Signals): Promise<ServiceProcess>;
  /**
   * Another Docker host: a second executor with its own host id (and `env`, e.g. EXECUTOR_LABELS),
   * on the platform's engine, or with `placement.engine` on another engine in a namespace of its own
   * (a second NAS across a network). Stopped by stop() if still running.
   */
  startExecutor(hostId: string, env?: Record<string, string>, placement?: ExecutorPlacement): Promise<ServiceProcess>;
  /** This platform's runner containers (all states). */
  containers(): Promise<Array<{ id: string; name: string; state: string; pool: string; host: string }>>;
  /**
   * What this platform has in Docker now: runner containers, networks (spare ones stay while an
   * executor runs), and anonymous volumes whose container is gone (a removal without v=1).
   */
  leftovers(): Promise<Leftovers>;
  /** The last lines every service wrote, for failure messages. */
  output(chars?: number): string;
  /** Stops everything and removes what is left; rejects when the platform leaked runner volumes. */
  stop(): Promise<void>;
}

/** The console's variable for each service it calls. */
const CONSOLE_URL_VARIABLES = {
  'webhook-gateway': 'CONSOLE_GATEWAY_URL',
  scheduler: 'CONSOLE_SCHEDULER_URL',
  'pool-manager': 'CONSOLE_POOL_MANAGER_URL',
  'container-executor': 'CONSOLE_EXECUTOR_URL',
  'status-reporter': 'CONSOLE_STATUS_REPORTER_URL',
} as const;

const run = promisify(execFile);
const quiet = createLogger({ service: 'e2e', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const suffix = randomBytes(3).toString('hex');
  const deployment = `e2e-${suffix}`;
  const host = `e2e-${suffix}`;
  const token = `e2e-admin-${suffix}-0123456789`;
  const readToken = `e2e-viewer-${suffix}-0123456789`;
  const webhookSecret = `e2e-secret-${suffix}`;
  const docker = createDockerClient(DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'));

  await run('bash', [`${repoRoot}scripts/build-runner-image.sh`]);
  if (options.pools.includes(RUNNER_IMAGES.actionsRunner)) await run('bash', [`${repoRoot}scripts/build-actions-runner-image.sh`, RUNNER_IMAGES.actionsRunner]);
  // From before the first container: anonymous volumes can only be followed from their start.
  const leftoverWatch = await watchLeftovers(docker, { deployment });
  const bridge = (await docker.getNetwork('bridge').inspect()) as { IPAM: { Config: { Gateway?: string }[] } };
  // An App id of its own: the services keep installation tokens and rate budgets in the shared Redis
  // under the App id, and other platforms and service tests on this machine run simulators too.
  const appId = 100_000 + randomBytes(3).readUIntBE(0, 3);
  const sim = await startGitHubSim({ ...options.sim, host: '0.0.0.0', runnerHost: bridge.IPAM.Config.find((c) => c.Gateway)?.Gateway ?? '172.17.0.1', webhookSecret, appId });
  sim.createInstallation({ account: 'acme', repositories: options.repositories ?? ['app'], publicRepositories: options.publicRepositories ?? [] });
  const nats = options.own?.nats ?? (await startNatsServer());
  const natsUrls = options.own?.natsUrls ?? [nats.url];
  const nc = await connectNats({ servers: natsUrls, name: 'e2e', log: quiet });
  await ensureStreams(nc, Object.values(streamDefinitions));
  const db: TestDatabase = await createTestDatabase(`e2e_${suffix}`, { adminUrl: options.own?.postgresAdminUrl });
  const redisUrl = options.own?.redisUrl ?? REDIS_URL;
  const poolsFile = join(mkdtempSync(join(tmpdir(), 'e2e-pools-')), 'pools.yaml');
  writeFileSync(poolsFile, options.pools);

  const common = { NATS_URL: natsUrls.join(','), ADMIN_TOKENS: [`ops:write:${token}`, `viewer:read:${readToken}`, ...(options.extraAdminTokens ?? [])].join(','), LOG_LEVEL: 'warn', ...options.common };
  const github = { GITHUB_API_URL: sim.url, GITHUB_APP_ID: String(sim.app.id), GITHUB_APP_PRIVATE_KEY: sim.app.privateKey };
  const envs: Record<ServiceName, Record<string, string>> = {
    'container-executor': {
      DOCKER_HOST: DOCKER_PROXY_URL.replace(/^http:/, 'tcp:'),
      EXECUTOR_HOST_ID: host,
      DEPLOYMENT_ID: deployment,
      EXECUTOR_HEARTBEAT_SECONDS: '1',
      EXECUTOR_RESERVED_CPUS: '0',
      EXECUTOR_RESERVED_MEMORY_MB: '0',
    },
    'pool-manager': { ...github, DATABASE_URL: db.url, REDIS_URL: redisUrl, POOLS_FILE: poolsFile, POOL_RECONCILE_SECONDS: '1', POOL_REAPER_SECONDS: '5' },
    scheduler: { ...github, DATABASE_URL: db.url, REDIS_URL: redisUrl },
    'webhook-gateway': { ...github, DATABASE_URL: db.url, REDIS_URL: redisUrl, GITHUB_WEBHOOK_SECRET: webhookSecret },
    'status-reporter': { ...github, DATABASE_URL: db.url, REDIS_URL: redisUrl },
    metrics: { REDIS_URL: redisUrl },
  };
  for (const name of SERVICES) envs[name] = { ...common, ...envs[name], ...options.env?.[name] };

  const services: Partial<Record<ServiceName, ServiceProcess>> = {};
  // The console (metrics) calls the other services' admin APIs and takes the App manifest to the simulator.
  const consoleEnv = (): Record<string, string> => {
    const url = (service: ServiceName, variable: string): Record<string, string> => (services[service] ? { [variable]: services[service].url } : {});
    return {
      ...url('webhook-gateway', 'CONSOLE_GATEWAY_URL'),
      ...url('scheduler', 'CONSOLE_SCHEDULER_URL'),
      ...url('pool-manager', 'CONSOLE_POOL_MANAGER_URL'),
      ...url('container-executor', 'CONSOLE_EXECUTOR_URL'),
      ...url('status-reporter', 'CONSOLE_STATUS_REPORTER_URL'),
      CONSOLE_GITHUB_URL: sim.url,
      GITHUB_API_URL: sim.url,
    };
  };
  const allInOne = options.allInOne ?? process.env.E2E_ALL_IN_ONE === '1';
  const chosen = options.services ?? SERVICES;
  // The all-in-one: each service's variables under its section (SCHEDULER__DATABASE_URL), its own
  // port, one process. A restart of any service restarts the process, ports kept.
  const ports: Partial<Record<ServiceName, number>> = {};
  const startAllInOne = async (): Promise<void> => {
    for (const name of chosen) ports[name] ??= await freePort();
    const env: Record<string, string> = { ALL_IN_ONE_SERVICES: chosen.join(','), LOG_LEVEL: common.LOG_LEVEL };
    const url = (name: ServiceName) => `http://127.0.0.1:${ports[name]}`;
    for (const name of chosen) {
      const consoleUrls: Record<string, string> =
        name === 'metrics'
          ? {
              ...Object.fromEntries((['webhook-gateway', 'scheduler', 'pool-manager', 'container-executor', 'status-reporter'] as const).filter((n) => ports[n]).map((n) => [CONSOLE_URL_VARIABLES[n], url(n)])),
              CONSOLE_GITHUB_URL: sim.url,
              GITHUB_API_URL: sim.url,
            }
          : {};
      for (const [k, v] of Object.entries({ ...consoleUrls, ...envs[name], HTTP_PORT: String(ports[name]) })) env[`${sectionOf(name)}${k}`] = v;
    }
    const child = await startServiceProcess('all-in-one', env, { compiled: options.compiled, nodeArgs: options.nodeArgs?.['container-executor'] });
    // One process under six names: it is signalled once (a second SIGTERM would kill it mid-shutdown).
    let signalled = false;
    const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
      if (signalled && signal === 'SIGTERM') return;
      signalled = true;
      child.kill(signal);
    };
    for (const name of chosen) services[name] = { ...child, name, url: url(name), kill };
    const died = child.exited.then(({ code, signal }) => {
      throw new Error(`the all-in-one exited (${signal ?? `code ${code ?? '?'}`}) before it was ready`);
    });
    died.catch(() => undefined);
    for (const name of chosen) await Promise.race([waitForReady(services[name]!, 120_000), died]);
    if (services['webhook-gateway'] && options.webhooks !== false) sim.setWebhook({ url: `${services['webhook-gateway'].url}/webhooks/github` });
  };
  const start = async (name: ServiceName): Promise<ServiceProcess> => {
    if (allInOne) {
      await startAllInOne();
      return services[name]!;
    }
    // A restart keeps the service's address, as a compose service keeps its name: GitHub's webhook
    // URL does not change when the gateway restarts, and its start-up redelivery of missed
    // deliveries would otherwise race the simulator being told the new one.
    const port = services[name] ? Number(new URL(services[name].url).port) : undefined;
    const env = name === 'metrics' ? { ...consoleEnv(), ...envs[name] } : envs[name];
    const service = await startServiceProcess(name, env, { compiled: options.compiled, nodeArgs: options.nodeArgs?.[name], port });
    services[name] = service;
    // A service that stops at once (a bad variable) says so now rather than after the timeout.
    const died = service.exited.then(({ code, signal }) => {
      throw new Error(`${name} exited (${signal ?? `code ${code ?? '?'}`}) before it was ready`);
    });
    died.catch(() => undefined);
    await Promise.race([waitForReady(service, 120_000), died]);
    if (name === 'webhook-gateway' && options.webhooks !== false) sim.setWebhook({ url: `${service.url}/webhooks/github` });
    return service;
  };
  const extraExecutors: ServiceProcess[] = [];
  // Other engines this platform's executors run on: each with its client, leftover watch and NATS link.
  const engines = new Map<string, { engine: DockerEngine; docker: ReturnType<typeof createDockerClient>; watch: LeftoverWatch; natsLink: TcpProxy }>();
  const dockers = () => [docker, ...[...engines.values()].map((e) => e.docker)];
  const output = (chars = 1500) =>
    [...(allInOne ? Object.values(services).slice(0, 1).map((s) => ({ ...s, name: 'all-in-one' })) : Object.values(services)), ...extraExecutors]
      .map((s) => `--- ${s.name}\n${s.output().slice(-chars)}`)
      .join('\n');

  try {
    // One at a time: tsx compiles each service on start, and the machine may have two cores.
    if (allInOne) await startAllInOne();
    else for (const name of chosen) await start(name);
  } catch (error) {
    leftoverWatch.stop();
    throw new Error(`${(error as Error).message}\n${output()}`);
  }

  return {
    sim,
    nats,
    nc,
    deployment,
    host,
    databaseUrl: db.url,
    token,
    readToken,
    services,
    output,
    async api<T>(service: ServiceName, path: string, init: { method?: string; body?: unknown } = {}) {
      const s = services[service];
      if (!s) throw new Error(`${service} is not running`);
      const response = await fetch(`${s.url}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async restart(service, signal = 'SIGKILL') {
      const s = services[service];
      s?.kill(signal);
      await s?.exited;
      if (allInOne) for (const name of chosen) delete services[name];
      return start(service);
    },
    async startExecutor(hostId, env = {}, placement = {}) {
      const { engine } = placement;
      let where: { env: Record<string, string>; netns?: string; httpHost?: string } = { env: {} };
      if (engine) {
        let link = engines.get(engine.id);
        if (!link) {
          // NATS over the network: a link on the veth, the host namespace's side, to this platform's server.
          const url = new URL(natsUrls[0]!);
          const natsLink = await startTcpProxy({ targetHost: url.hostname, targetPort: Number(url.port), listenHost: engine.hostAddress });
          const engineDocker = createDockerClient(`unix://${engine.socket}`);
          link = { engine, docker: engineDocker, watch: await watchLeftovers(engineDocker, { deployment }), natsLink };
          engines.set(engine.id, link);
        }
        where = { env: { NATS_URL: `nats://${engine.hostAddress}:${link.natsLink.port}`, DOCKER_HOST: engine.proxyUrl }, netns: engine.netns, httpHost: engine.address };
      }
      const executor = await startServiceProcess('container-executor', { ...envs['container-executor'], EXECUTOR_HOST_ID: hostId, ...where.env, ...env }, { compiled: options.compiled, netns: where.netns, httpHost: where.httpHost });
      extraExecutors.push(executor);
      await waitForReady(executor, 120_000);
      return executor;
    },
    async containers() {
      const lists = await Promise.all(dockers().map((d) => d.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${deployment}`] } })));
      return lists.flat().map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), state: c.State, pool: c.Labels[LABEL.pool] ?? '', host: c.Labels[LABEL.host] ?? '' }));
    },
    async leftovers() {
      const all = await Promise.all([leftoverWatch, ...[...engines.values()].map((e) => e.watch)].map((w) => w.leftovers()));
      return { containers: all.flatMap((l) => l.containers), networks: all.flatMap((l) => l.networks), volumes: all.flatMap((l) => l.volumes) };
    },
    async stop() {
      for (const executor of extraExecutors) {
        executor.kill('SIGTERM');
        await executor.exited;
      }
      for (const name of [...SERVICES].reverse()) {
        services[name]?.kill('SIGTERM');
        await services[name]?.exited;
      }
      // Volumes of containers the platform removed itself: a removal without v=1 leaks one per runner.
      // A volume's destroy event comes a moment after its container's: give the last ones that long.
      let leaked = (await leftoverWatch.leftovers()).volumes;
      for (let i = 0; leaked.length > 0 && i < 10; i++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        leaked = (await leftoverWatch.leftovers()).volumes;
      }
      for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${deployment}`] } })) {
        await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      }
      // Docker has only a few dozen address pools for bridge networks on a host.
      for (const n of await docker.listNetworks({ filters: { label: [`${LABEL.deployment}=${deployment}`] } })) {
        await docker.getNetwork(n.Id).remove().catch(() => undefined);
      }
      // The other engines belong to the test (it destroys them); what this platform made there goes now.
      for (const { docker: other, watch, natsLink } of engines.values()) {
        const leakedThere = (await watch.leftovers().catch(() => ({ volumes: [] as string[] }))).volumes;
        leaked = [...leaked, ...leakedThere];
        for (const c of await other.listContainers({ all: true, filters: { label: [`${LABEL.deployment}=${deployment}`] } }).catch(() => [])) {
          await other.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
        }
        for (const n of await other.listNetworks({ filters: { label: [`${LABEL.deployment}=${deployment}`] } }).catch(() => [])) {
          await other.getNetwork(n.Id).remove().catch(() => undefined);
        }
        for (const v of leakedThere) await other.getVolume(v).remove({ force: true }).catch(() => undefined);
        watch.stop();
        await natsLink.close();
      }
      // Through the CLI: the socket proxy allows no volume calls.
      const volumes = [...new Set([...leaked, ...(await leftoverWatch.leftovers()).volumes])];
      if (volumes.length > 0) await run('docker', ['volume', 'rm', '-f', ...volumes]).catch(() => undefined);
      leftoverWatch.stop();
      await sim.close();
      await nc.close();
      if (!options.own?.nats) await nats.stop();
      await db.drop();
      if (leaked.length > 0) throw new Error(`the platform left ${leaked.length} runner volumes behind (removed now): ${leaked.join(', ')}`);
    },
  };
}
