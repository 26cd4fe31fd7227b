import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type {
  ContractViolation,
  Faults,
  GitHubSim,
  InstallationInput,
  JitRunnerInput,
  JobInput,
  RateLimits,
  ScaleSetInput,
  ScaleSetOptions,
  SimActionsRequest,
  SimDelivery,
  SimOptions,
} from './api.js';
import { registerActionsService } from './actions-service.js';
import type { TenantScope } from './actions-tokens.js';
import { publicKeyOf } from './app-jwt.js';
import { AppManifests, type PendingManifest } from './app-manifests.js';
import { SimClock } from './clock.js';
import { Contract } from './contract.js';
import { registerControlRoutes } from './control.js';
import { githubRoutes } from './github-routes.js';
import { encodeJitConfig } from './jit-config.js';
import { RateLimiter } from './rate-limits.js';
import { pingPayload, workflowJobPayload, workflowRunPayload, type AppInfo } from './representations.js';
import { registerRestRoutes } from './rest.js';
import { registerRunnerProtocol } from './runner-protocol.js';
import { defaultRunnerReleases, RunnerVersions } from './runner-versions.js';
import { ScaleSetContract } from './scale-set-contract.js';
import { ScaleSets, type ScaleSetRules } from './scale-sets.js';
import { WebhookSender } from './webhooks.js';
import { GitHubHttpError } from './errors.js';
import { World, type Job, type JobAction, type Run, type RunAction } from './world.js';

/** Starts a simulator on its own port; see README.md for what it serves. */
export async function startGitHubSim(options: SimOptions = {}): Promise<GitHubSim> {
  const sim = new Simulator(options);
  await sim.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return sim;
}

/** Loaded once per process: parsing GitHub's descriptions is the slow part of a start. */
let sharedContract: Contract | undefined;
let sharedScaleSetContract: ScaleSetContract | undefined;
/** Calls of the Actions service kept for tests (actionsRequests). */
const ACTIONS_LOG_SIZE = 1000;

class Simulator implements GitHubSim {
  private readonly clock = new SimClock();
  private readonly contract = (sharedContract ??= new Contract());
  private readonly limiter = new RateLimiter(this.clock);
  private readonly server: FastifyInstance;
  private readonly world: World;
  private readonly webhooks: WebhookSender;
  private readonly appInfo: AppInfo;
  private readonly privateKey: string;
  private readonly clientId: string;
  private readonly publicKey: KeyObject;
  private readonly violationLog: ContractViolation[] = [];
  private readonly actionsLog: SimActionsRequest[] = [];
  private readonly scaleSetsBroker: ScaleSets;
  private readonly manifests: AppManifests;
  private scaleSetOptions: ScaleSetOptions;
  private webhookUrl: string | undefined;
  private webhookSecret: string;
  private faults: Faults = {};
  private baseUrl = '';
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SimOptions) {
    this.privateKey = options.privateKey ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    this.publicKey = publicKeyOf(this.privateKey);
    // A fresh App id per simulator unless one is asked for: RunnerHub keys its shared tokens and
    // budget in Redis by App id, and two simulators that share one would see each other's tokens.
    const appId = options.appId ?? 100_000 + Math.floor(Math.random() * 800_000);
    this.clientId = `Iv23li${randomBytes(7).toString('hex')}`;
    this.appInfo = { id: appId, clientId: this.clientId, slug: 'runnerhub-sim', name: 'RunnerHub (simulated)', hookId: 500_000 + appId, createdAt: Date.now() };
    this.webhookUrl = options.webhookUrl;
    this.webhookSecret = options.webhookSecret ?? randomBytes(20).toString('hex');
    this.webhooks = new WebhookSender(
      () => ({ url: this.webhookUrl, secret: this.webhookSecret, appId: this.appInfo.id, hookId: this.appInfo.hookId }),
      this.clock,
    );
    this.world = new World(
      this.clock,
      {
        runnerHeartbeatSeconds: options.runnerHeartbeatSeconds ?? 30,
        lostRunnerSeconds: options.lostRunnerSeconds ?? 60,
        queuedJobTimeoutSeconds: options.queuedJobTimeoutSeconds ?? 86_400,
      },
      (job, action) => this.emitJob(job, action),
      (run, action) => this.emitRun(run, action),
    );
    this.scaleSetOptions = { ...options.scaleSets };
    this.scaleSetsBroker = new ScaleSets(this.world, this.clock, () => this.scaleSetRules(), { web: () => this.baseUrl, runnerUrl: () => this.runnerUrl });
    this.manifests = new AppManifests(this.clock, (login) => {
      const installation = this.world.installationOf(login);
      return installation?.account.type === 'Organization' ? installation.account : undefined;
    });
    // Closing ends every connection at once: a request held by a delay fault, or a keep-alive
    // connection that went idle after close() began, would otherwise hold close() for fastify's
    // 72 s keep-alive timeout.
    this.server = Fastify({ logger: options.logger ? { level: 'info' } : false, bodyLimit: 25 * 1024 * 1024, forceCloseConnections: true });
    // GitHub's clients read the server's Date to correct their JWT clocks: give them ours.
    this.server.addHook('onSend', async (_request, reply) => {
      void reply.header('date', new Date(this.clock.now()).toUTCString());
    });
    this.server.setNotFoundHandler((_request, reply) => reply.code(404).send({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }));
    this.server.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) request.log.error({ err: error }, 'github-sim failed');
      return reply.code(status).send({ message: status === 400 ? `Problems parsing JSON: ${error.message}` : error.message, documentation_url: 'https://docs.github.com/rest' });
    });
    registerRestRoutes(
      this.server,
      githubRoutes({
        world: this.world,
        clock: this.clock,
        limiter: this.limiter,
        webhooks: this.webhooks,
        app: this.appInfo,
        web: () => this.baseUrl,
        runnerUrl: () => this.runnerUrl,
        scaleSets: this.scaleSetsBroker,
        manifests: this.manifests,
        adoptManifest: (pending) => this.adoptManifest(pending),
      }),
      {
        world: this.world,
        clock: this.clock,
        contract: this.contract,
        limiter: this.limiter,
        app: () => ({ id: this.appInfo.id, clientId: this.clientId, publicKey: this.publicKey }),
        faults: () => this.faults.rest ?? [],
        recordViolation: (v) => this.violationLog.push(v),
      },
    );
    registerRunnerProtocol(this.server, this.world, new RunnerVersions(this.clock, options.runnerReleases ?? defaultRunnerReleases(this.clock.now())));
    registerActionsService(this.server, {
      scaleSets: this.scaleSetsBroker,
      contract: (sharedScaleSetContract ??= new ScaleSetContract()),
      faults: () => this.faults.rest ?? [],
      bom: () => Boolean(this.scaleSetOptions.bom || this.faults.scaleSets?.bom),
      recordViolation: (v) => this.violationLog.push(v),
      recordRequest: (r) => {
        this.actionsLog.push(r);
        if (this.actionsLog.length > ACTIONS_LOG_SIZE) this.actionsLog.shift();
      },
    });
    this.manifests.register(this.server);
    registerControlRoutes(this.server, this);
  }

  private scaleSetRules(): ScaleSetRules {
    const o = this.scaleSetOptions;
    const flavour = this.options.flavour ?? 'github.com';
    return {
      flavour,
      pollWaitMs: o.pollWaitMs ?? 50_000,
      sessionIdleMs: (o.sessionIdleSeconds ?? 60) * 1000,
      adminTokenMs: (o.adminTokenSeconds ?? 3600) * 1000,
      queueTokenMs: (o.queueTokenSeconds ?? 3600) * 1000,
      jobCompletedDelayMs: o.jobCompletedDelayMs ?? 0,
      reassignAfterMs: (o.reassignAfterSeconds ?? 300) * 1000,
      customLabels: o.customLabels ?? flavour === 'ghes',
    };
  }

  /** A converted manifest configures the one App the simulator has (app-manifests.ts). */
  private adoptManifest({ manifest }: PendingManifest): { clientSecret: string; webhookSecret: string; pem: string } {
    this.appInfo.name = manifest.name;
    this.appInfo.slug = manifest.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'app';
    this.appInfo.description = manifest.description;
    this.appInfo.externalUrl = manifest.url;
    if (manifest.defaultPermissions) this.appInfo.permissions = { metadata: 'read', ...manifest.defaultPermissions };
    if (manifest.defaultEvents) this.appInfo.events = manifest.defaultEvents;
    this.webhookSecret = randomBytes(20).toString('hex');
    if (manifest.hookUrl) this.webhookUrl = manifest.hookUrl;
    return { clientSecret: randomBytes(20).toString('hex'), webhookSecret: this.webhookSecret, pem: this.privateKey };
  }

  private tenantScope(input: { repository?: string; org?: string }): TenantScope {
    if (input.repository) {
      const repo = this.world.repo(input.repository);
      const installation = repo && this.world.installations.get(repo.installationId);
      if (!repo || !installation) throw new GitHubHttpError(404, `repository ${input.repository} is not in any installation`);
      return { installation, repo };
    }
    const installation = this.world.installationOf(input.org ?? '');
    if (!installation || installation.account.type !== 'Organization') throw new GitHubHttpError(404, `organization ${input.org ?? ''} is not in any installation`);
    return { installation, repo: null };
  }

  async listen(port: number, host: string): Promise<void> {
    await this.server.listen({ port, host });
    const address = this.server.server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    this.baseUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actualPort}`;
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    this.world.sweep();
    this.scaleSetsBroker.sweep();
  }

  get url(): string {
    return this.baseUrl;
  }

  get runnerUrl(): string {
    if (this.options.runnerUrl) return this.options.runnerUrl;
    if (this.options.runnerHost) return `http://${this.options.runnerHost}:${new URL(this.baseUrl).port}`;
    return this.baseUrl;
  }

  get app(): GitHubSim['app'] {
    return { id: this.appInfo.id, clientId: this.clientId, slug: this.appInfo.slug, privateKey: this.privateKey, webhookSecret: this.webhookSecret, hookId: this.appInfo.hookId };
  }

  createInstallation(input: InstallationInput): ReturnType<GitHubSim['createInstallation']> {
    return this.world.toSimInstallation(this.world.createInstallation(input));
  }

  installations(): ReturnType<GitHubSim['installations']> {
    return [...this.world.installations.values()].map((i) => this.world.toSimInstallation(i));
  }

  createJob(input: JobInput): ReturnType<GitHubSim['createJob']> {
    return this.world.toSimJob(this.world.createJob(input));
  }

  job(id: number): ReturnType<GitHubSim['job']> {
    const job = this.world.jobs.get(id);
    return job ? this.world.toSimJob(job) : undefined;
  }

  jobs(): ReturnType<GitHubSim['jobs']> {
    return [...this.world.jobs.values()].map((j) => this.world.toSimJob(j));
  }

  cancelJob(id: number): ReturnType<GitHubSim['cancelJob']> {
    return this.world.toSimJob(this.world.cancelJob(id));
  }

  runners(): ReturnType<GitHubSim['runners']> {
    return [...this.world.runners.values()].map((r) => this.world.toSimRunner(r));
  }

  checkRuns(): ReturnType<GitHubSim['checkRuns']> {
    const repos = [...this.world.installations.values()].flatMap((i) => i.repos);
    const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return [...this.world.checkRuns.entries()].map(([id, f]) => ({
      id,
      repository: repos.find((r) => r.id === f['repoId'])?.fullName ?? '',
      headSha: text(f['head_sha']) ?? '',
      name: text(f['name']) ?? '',
      externalId: text(f['external_id']),
      status: f['conclusion'] ? 'completed' : (text(f['status']) ?? 'queued'),
      conclusion: text(f['conclusion']),
      output: f['output'] ?? {},
    }));
  }

  createJitRunner(input: JitRunnerInput): ReturnType<GitHubSim['createJitRunner']> {
    // The same runner and JIT config the REST call makes, without auth and rate limits.
    const runner = this.world.createJitRunner(input);
    const encodedJitConfig = encodeJitConfig(runner, { web: this.baseUrl, runnerUrl: this.runnerUrl, groupName: this.world.groupName(runner) });
    return { runner: this.world.toSimRunner(runner), encodedJitConfig };
  }

  createRunnerGroup(input: { org: string; name: string; allowsPublicRepositories?: boolean }): { id: number; name: string } {
    const group = this.world.createRunnerGroup(input.org, input.name, input.allowsPublicRepositories);
    return { id: group.id, name: group.name };
  }

  createScaleSet(input: ScaleSetInput): ReturnType<GitHubSim['createScaleSet']> {
    const scaleSet = this.scaleSetsBroker.create(this.tenantScope(input), {
      name: input.name,
      runnerGroupId: input.runnerGroupId ?? 1,
      labels: input.labels ?? [],
      disableUpdate: true,
    });
    return this.scaleSetsBroker.toSim(scaleSet);
  }

  createScaleSetRunner(scaleSetId: number, input: { name: string; workFolder?: string }): ReturnType<GitHubSim['createScaleSetRunner']> {
    const scaleSet = this.scaleSetById(scaleSetId);
    const { runner, encodedJITConfig } = this.scaleSetsBroker.generateJitConfig(scaleSet.scope, scaleSetId, { name: input.name, workFolder: input.workFolder ?? '' });
    return { runner: this.world.toSimRunner(runner), encodedJitConfig: encodedJITConfig };
  }

  scaleSets(): ReturnType<GitHubSim['scaleSets']> {
    return [...this.scaleSetsBroker.all.values()].map((s) => this.scaleSetsBroker.toSim(s));
  }

  injectScaleSetMessage(scaleSetId: number, message: Record<string, unknown> & { messageType: string }): void {
    this.scaleSetsBroker.inject(this.scaleSetById(scaleSetId), message);
  }

  configureScaleSets(options: ScaleSetOptions): void {
    this.scaleSetOptions = { ...this.scaleSetOptions, ...options };
    this.sweep();
  }

  expireScaleSetTokens(which: { admin?: boolean; queue?: boolean }): void {
    if (which.admin) this.scaleSetsBroker.tokens.expireAdminTokens();
    if (which.queue) this.scaleSetsBroker.expireQueueTokens();
  }

  actionsRequests(): SimActionsRequest[] {
    return [...this.actionsLog];
  }

  private scaleSetById(id: number): NonNullable<ReturnType<ScaleSets['all']['get']>> {
    const scaleSet = this.scaleSetsBroker.all.get(id);
    if (!scaleSet) throw new GitHubHttpError(404, `no scale set ${id}`);
    return scaleSet;
  }

  deliveries(): SimDelivery[] {
    return this.webhooks.deliveries().slice().reverse();
  }

  waitForDelivery(match: (d: SimDelivery) => boolean, timeoutMs = 10_000): Promise<SimDelivery> {
    const found = this.deliveries().find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`no matching webhook delivery within ${timeoutMs} ms (${this.deliveries().length} deliveries so far)`));
      }, timeoutMs);
      const stop = this.webhooks.onDelivery((d) => {
        if (!match(d)) return;
        clearTimeout(timer);
        stop();
        resolve(d);
      });
    });
  }

  async ping(): Promise<void> {
    const payload = pingPayload(this.baseUrl, this.appInfo, this.webhookUrl ?? '');
    this.checkWebhook('ping', payload);
    this.webhooks.send({ event: 'ping', action: null, installationId: null, repositoryId: null, payload });
    return Promise.resolve();
  }

  setWebhook(config: { url?: string; secret?: string }): void {
    if (config.url !== undefined) this.webhookUrl = config.url;
    if (config.secret !== undefined) this.webhookSecret = config.secret;
  }

  webhook(): { url: string | undefined; secret: string } {
    return { url: this.webhookUrl, secret: this.webhookSecret };
  }

  setFaults(faults: Faults): void {
    this.faults = faults;
    this.webhooks.setFaults(faults.webhooks ?? {});
    this.scaleSetsBroker.dropAcks = faults.scaleSets?.dropAcks ?? 0;
  }

  setRateLimits(limits: RateLimits): void {
    this.limiter.configure(limits);
  }

  advanceClock(ms: number): void {
    this.clock.advance(ms);
    this.sweep();
  }

  now(): number {
    return this.clock.now();
  }

  violations(): ContractViolation[] {
    return [...this.violationLog];
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const runner of this.world.runners.values()) runner.waiter?.resolve({ kind: 'none' });
    this.scaleSetsBroker.close();
    await this.webhooks.close();
    await this.server.close();
  }

  private emitJob(job: Job, action: JobAction): void {
    const payload = workflowJobPayload(this.baseUrl, job, action, job.installationId);
    this.checkWebhook(`workflow-job-${action.replace('_', '-')}`, payload);
    this.webhooks.send({ event: 'workflow_job', action, installationId: job.installationId, repositoryId: job.repo.id, payload });
  }

  private emitRun(run: Run, action: RunAction): void {
    const payload = workflowRunPayload(this.baseUrl, run, action);
    this.checkWebhook(`workflow-run-${action.replace('_', '-')}`, payload);
    this.webhooks.send({ event: 'workflow_run', action, installationId: run.repo.installationId, repositoryId: run.repo.id, payload });
  }

  private checkWebhook(name: string, payload: unknown): void {
    const errors = this.contract.checkWebhook(name, payload);
    if (errors.length > 0) {
      this.violationLog.push({ at: new Date().toISOString(), method: 'POST', path: '(webhook)', operationId: name, direction: 'webhook', errors });
    }
  }
}
