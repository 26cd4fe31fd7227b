import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type {
  AccountType,
  InstallationInput,
  JitRunnerInput,
  JobConclusion,
  JobInput,
  JobStatus,
  PermissionLevel,
  SimInstallation,
  SimJob,
  SimRunner,
} from './api.js';
import type { SimClock } from './clock.js';
import { GitHubHttpError } from './errors.js';

/**
 * Everything github.com knows that matters to a runner manager: installations and their repos,
 * tokens, runners, workflow runs and jobs, check runs, and the rules that move jobs between
 * runners. Webhooks leave through `emitJob`; the HTTP layers only translate.
 */

export interface Account {
  login: string;
  id: number;
  type: AccountType;
}
export interface Repo {
  id: number;
  name: string;
  fullName: string;
  owner: Account;
  installationId: number;
  /** What repository.visibility says (and repository.private: true unless public). */
  visibility: RepoVisibility;
}

export type RepoVisibility = 'public' | 'private' | 'internal';
export interface Installation {
  id: number;
  account: Account;
  repos: Repo[];
  permissions: Record<string, PermissionLevel>;
  repositorySelection: 'all' | 'selected';
  createdAt: number;
}
export interface Label {
  id: number;
  name: string;
  type: 'read-only' | 'custom';
}

interface Waiter {
  resolve(outcome: PollOutcome): void;
}
export type PollOutcome = { kind: 'job'; job: Job } | { kind: 'none' } | { kind: 'deleted' };

export interface Runner {
  id: number;
  name: string;
  installationId: number;
  /** Org login for org runners; repo runners have `repo` set too. */
  owner: string;
  repo: Repo | null;
  labels: Label[];
  runnerGroupId: number;
  /** Set for runners made from a scale set's JIT config (scale-sets.ts): they take only that scale set's jobs. */
  scaleSetId: number | null;
  workFolder: string;
  status: 'online' | 'offline';
  busy: boolean;
  job: Job | null;
  secret: string;
  jitUsed: boolean;
  sessionId: string | null;
  waiter: Waiter | null;
  lastSeenAt: number;
  lastRenewAt: number;
  createdAt: number;
  version: string | null;
  os: string;
}

export interface Job {
  id: number;
  /** The job as the scale-set message queue names it: an opaque GUID, unrelated to `id` (cloudbase/garm#459). */
  scaleSetJobId: string;
  /** The scale set GitHub last assigned the job to (scale-sets.ts keeps it). */
  scaleSetId: number | null;
  run: Run;
  repo: Repo;
  installationId: number;
  name: string;
  labels: string[];
  status: JobStatus;
  conclusion: JobConclusion | null;
  runner: { id: number; name: string; groupId: number; groupName: string } | null;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number;
  command: string | null;
  expectedConclusion: JobConclusion;
  cancelRequested: number | null;
}

export interface Run {
  id: number;
  repo: Repo;
  attempt: number;
  runNumber: number;
  workflowName: string;
  headSha: string;
  headBranch: string;
  /** What triggered the run: push, pull_request, pull_request_target, workflow_dispatch... */
  event: string;
  /** owner/name of the repository the run's code comes from: another one for a pull request from a fork. */
  headRepository: string;
  createdAt: number;
  updatedAt: number;
  jobs: Job[];
}

export interface WorldOptions {
  runnerHeartbeatSeconds: number;
  lostRunnerSeconds: number;
  queuedJobTimeoutSeconds: number;
}

export type JobAction = 'queued' | 'in_progress' | 'completed';

export interface RunnerGroup {
  id: number;
  name: string;
  isDefault: boolean;
  /**
   * Off by default, the Default group too: then a public repository's jobs never reach the group's
   * runners, even a repository the group grants (docs: "About runner groups"; go-github#1998).
   */
  allowsPublicRepositories: boolean;
}

/**
 * How jobs meet runner scale sets (scale-sets.ts). The world asks which scale set holds a job and
 * tells it what happened to jobs; it knows nothing else of scale sets.
 */
export interface ScaleSetRouting {
  /** The scale set holding a job; `ready` once its runners may take it (assigned, not merely available). */
  holder(job: Job): { scaleSetId: number; ready: boolean } | undefined;
  jobQueued(job: Job): void;
  jobStarted(job: Job, runner: Runner): void;
  jobFinished(job: Job, runner: Runner | undefined): void;
}

const NO_SCALE_SETS: ScaleSetRouting = {
  holder: () => undefined,
  jobQueued: () => undefined,
  jobStarted: () => undefined,
  jobFinished: () => undefined,
};
export type RunAction = 'requested' | 'in_progress' | 'completed';

export const DEFAULT_PERMISSIONS: Record<string, PermissionLevel> = {
  actions: 'read',
  administration: 'write',
  checks: 'write',
  metadata: 'read',
  organization_self_hosted_runners: 'write',
};

const DEFAULT_GROUP: RunnerGroup = { id: 1, name: 'Default', isDefault: true, allowsPublicRepositories: false };
const ONE_DAY_MS = 86_400_000;
/**
 * Names GitHub gives its own meaning: a JIT runner sent one of them lists it as `read-only`, as in
 * the generate-jitconfig example of GitHub's REST description (self-hosted, X64 and macOS sent,
 * returned read-only; no-gpu custom). A JIT runner gets no label it was not sent
 * (docs/github-app.md "Labels").
 */
const SYSTEM_LABELS = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm64', 'arm']);

export class World {
  readonly installations = new Map<number, Installation>();
  readonly runners = new Map<number, Runner>();
  readonly jobs = new Map<number, Job>();
  readonly runs = new Map<number, Run>();
  readonly checkRuns = new Map<number, Record<string, unknown>>();
  private readonly tokens = new Map<string, { installationId: number; expiresAt: number; permissions: Record<string, PermissionLevel> }>();
  private readonly labelIds = new Map<string, number>();
  /** Runner groups an organization made besides Default, by lower-case login. */
  private readonly groups = new Map<string, RunnerGroup[]>();
  private routing: ScaleSetRouting = NO_SCALE_SETS;
  // Job, run and runner ids grow from the start time, so a restarted simulator never reuses an id
  // that a running RunnerHub already has in its database.
  private nextId = {
    account: 1000,
    repo: 50_000,
    installation: 7_000,
    runner: Math.floor(Date.now() / 1000),
    job: Date.now(),
    run: Date.now(),
    check: 4_000,
    label: 100,
    group: 2,
  };
  private runNumbers = new Map<number, number>();

  constructor(
    private readonly clock: SimClock,
    private readonly options: WorldOptions,
    private readonly emitJob: (job: Job, action: JobAction) => void,
    private readonly emitRun: (run: Run, action: RunAction) => void = () => undefined,
  ) {}

  attachScaleSets(routing: ScaleSetRouting): void {
    this.routing = routing;
  }

  // --- installations and tokens -------------------------------------------------------------

  createInstallation(input: InstallationInput): Installation {
    const existing = [...this.installations.values()].find((i) => i.account.login.toLowerCase() === input.account.toLowerCase());
    if (existing) throw new GitHubHttpError(422, `account ${input.account} already has an installation (${existing.id})`);
    const account: Account = { login: input.account, id: this.nextId.account++, type: input.type ?? 'Organization' };
    const installation: Installation = {
      id: this.nextId.installation++,
      account,
      repos: [],
      permissions: { ...(input.permissions ?? DEFAULT_PERMISSIONS) },
      repositorySelection: input.repositorySelection ?? 'selected',
      createdAt: this.clock.now(),
    };
    installation.repos = input.repositories.map((name) => ({
      id: this.nextId.repo++,
      name,
      fullName: `${account.login}/${name}`,
      owner: account,
      installationId: installation.id,
      // Private unless the test says otherwise: a NAS owner's repositories usually are.
      visibility: input.publicRepositories?.includes(name) ? 'public' : 'private',
    }));
    this.installations.set(installation.id, installation);
    return installation;
  }

  installationOf(owner: string): Installation | undefined {
    return [...this.installations.values()].find((i) => i.account.login.toLowerCase() === owner.toLowerCase());
  }

  repo(fullName: string): Repo | undefined {
    const [owner, name] = fullName.split('/');
    return this.installationOf(owner ?? '')?.repos.find((r) => r.name.toLowerCase() === name?.toLowerCase());
  }

  issueToken(installationId: number, permissions?: Record<string, PermissionLevel>): { token: string; expiresAt: number; permissions: Record<string, PermissionLevel> } {
    const installation = this.installations.get(installationId);
    if (!installation) throw new GitHubHttpError(404, 'Not Found');
    const granted = permissions ?? installation.permissions;
    for (const [name, level] of Object.entries(granted)) {
      const has = installation.permissions[name];
      if (!has || (level === 'write' && has !== 'write')) {
        throw new GitHubHttpError(422, `The permissions requested are not granted to this installation.`);
      }
    }
    const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    const record = { installationId, expiresAt: this.clock.now() + 3_600_000, permissions: granted };
    this.tokens.set(token, record);
    return { token, ...record };
  }

  /** The installation and permissions of a live token, or undefined (expired, unknown). */
  tokenInfo(token: string): { installation: Installation; permissions: Record<string, PermissionLevel> } | undefined {
    const record = this.tokens.get(token);
    if (!record) return undefined;
    if (record.expiresAt <= this.clock.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    const installation = this.installations.get(record.installationId);
    return installation ? { installation, permissions: record.permissions } : undefined;
  }

  // --- runners --------------------------------------------------------------------------------

  createJitRunner(input: JitRunnerInput): Runner {
    let installation: Installation | undefined;
    let repo: Repo | null = null;
    if (input.repository) {
      repo = this.repo(input.repository) ?? null;
      if (!repo) throw new GitHubHttpError(404, 'Not Found');
      installation = this.installations.get(repo.installationId);
    } else if (input.org) {
      installation = this.installationOf(input.org);
      if (!installation || installation.account.type !== 'Organization') throw new GitHubHttpError(404, 'Not Found');
    }
    if (!installation) throw new GitHubHttpError(422, 'a runner needs a repository or an org');
    const groupId = input.runnerGroupId ?? DEFAULT_GROUP.id;
    if (!this.runnerGroups(installation, repo).some((g) => g.id === groupId)) throw new GitHubHttpError(404, 'Not Found');
    if (this.runnerNamed(installation, repo, input.name)) {
      throw new GitHubHttpError(409, `Already exists - A runner with the name ${input.name} already exists.`);
    }
    const names: string[] = [];
    for (const label of input.labels) {
      if (!names.some((n) => n.toLowerCase() === label.toLowerCase())) names.push(label);
    }
    return this.addRunner({
      name: input.name,
      installation,
      repo,
      labels: names.map((name) => ({ id: this.labelId(name), name, type: SYSTEM_LABELS.has(name.toLowerCase()) ? 'read-only' : 'custom' })),
      runnerGroupId: groupId,
      scaleSetId: null,
      workFolder: input.workFolder ?? '_work',
    });
  }

  /**
   * A runner registered through a scale set's generatejitconfig: the scale set's labels and no
   * default ones (no self-hosted, OS or architecture: rhobuild/runpool#141), its group, its scope.
   * The caller has checked the name is free (runnerNamed).
   */
  createScaleSetRunner(input: { name: string; installation: Installation; repo: Repo | null; labels: string[]; runnerGroupId: number; scaleSetId: number; workFolder: string }): Runner {
    return this.addRunner({ ...input, labels: input.labels.map((name) => ({ id: this.labelId(name), name, type: 'custom' })) });
  }

  /** The runner of this scope (repository, or the organization's own) with this name. */
  runnerNamed(installation: Installation, repo: Repo | null, name: string): Runner | undefined {
    const owner = repo ? repo.fullName : installation.account.login;
    return [...this.runners.values()].find((r) => r.name === name && (r.repo?.fullName ?? r.owner) === owner);
  }

  private addRunner(fields: Pick<Runner, 'name' | 'repo' | 'labels' | 'runnerGroupId' | 'scaleSetId' | 'workFolder'> & { installation: Installation }): Runner {
    const now = this.clock.now();
    const runner: Runner = {
      id: this.nextId.runner++,
      name: fields.name,
      installationId: fields.installation.id,
      owner: fields.installation.account.login,
      repo: fields.repo,
      labels: fields.labels,
      runnerGroupId: fields.runnerGroupId,
      scaleSetId: fields.scaleSetId,
      workFolder: fields.workFolder,
      status: 'offline',
      busy: false,
      job: null,
      secret: randomBytes(24).toString('base64url'),
      jitUsed: false,
      sessionId: null,
      waiter: null,
      lastSeenAt: now,
      lastRenewAt: now,
      createdAt: now,
      version: null,
      os: 'Linux',
    };
    this.runners.set(runner.id, runner);
    return runner;
  }

  runnersOf(scope: { repo?: Repo; org?: string }): Runner[] {
    return [...this.runners.values()]
      .filter((r) => (scope.repo ? r.repo?.id === scope.repo.id : r.repo === null && r.owner.toLowerCase() === scope.org?.toLowerCase()))
      .sort((a, b) => a.id - b.id);
  }

  deleteRunner(runner: Runner): void {
    if (runner.busy) throw new GitHubHttpError(422, `Bad request - Runner "${runner.name}" is still running a job`);
    this.removeRunner(runner);
  }

  /** Default, plus the groups an organization made; a repository has only Default. */
  runnerGroups(installation: Installation, repo: Repo | null): RunnerGroup[] {
    if (repo || installation.account.type !== 'Organization') return [DEFAULT_GROUP];
    return [DEFAULT_GROUP, ...(this.groups.get(installation.account.login.toLowerCase()) ?? [])];
  }

  createRunnerGroup(org: string, name: string, allowsPublicRepositories = false): RunnerGroup {
    const installation = this.installationOf(org);
    if (!installation || installation.account.type !== 'Organization') throw new GitHubHttpError(404, `organization ${org} is not in any installation`);
    if (this.runnerGroups(installation, null).some((g) => g.name.toLowerCase() === name.toLowerCase())) {
      throw new GitHubHttpError(409, `Organization ${org} already has a runner group named ${name}`);
    }
    const group: RunnerGroup = { id: this.nextId.group++, name, isDefault: false, allowsPublicRepositories };
    const key = installation.account.login.toLowerCase();
    this.groups.set(key, [...(this.groups.get(key) ?? []), group]);
    return group;
  }

  groupName(runner: Runner): string {
    return this.groupOf(runner).name;
  }

  private groupOf(runner: Runner): RunnerGroup {
    const installation = this.installations.get(runner.installationId);
    const groups = installation ? this.runnerGroups(installation, runner.repo) : [DEFAULT_GROUP];
    return groups.find((g) => g.id === runner.runnerGroupId) ?? DEFAULT_GROUP;
  }

  // --- runner protocol ------------------------------------------------------------------------

  openSession(secret: string, version: string): { runner: Runner; sessionId: string } {
    const runner = this.runnerBySecret(secret);
    if (!runner) throw new GitHubHttpError(404, 'The runner registration has been deleted from the server');
    if (runner.jitUsed) {
      throw new GitHubHttpError(409, `A session for runner ${runner.name} already exists: a JIT configuration can be used only once`);
    }
    runner.jitUsed = true;
    runner.sessionId = randomBytes(12).toString('hex');
    runner.status = 'online';
    runner.version = version;
    runner.lastSeenAt = this.clock.now();
    return { runner, sessionId: runner.sessionId };
  }

  runnerBySecret(secret: string): Runner | undefined {
    return [...this.runners.values()].find((r) => r.secret === secret);
  }

  runnerBySession(sessionId: string): Runner | undefined {
    return [...this.runners.values()].find((r) => r.sessionId === sessionId);
  }

  /** A long poll: resolves with a job as soon as one is assigned, or `none` after `waitMs`. */
  poll(runner: Runner, waitMs: number): Promise<PollOutcome> {
    runner.lastSeenAt = this.clock.now();
    runner.status = 'online';
    if (runner.busy || runner.waiter) return Promise.resolve({ kind: 'none' });
    return new Promise<PollOutcome>((resolve) => {
      const timer = setTimeout(() => finish({ kind: 'none' }), waitMs);
      const finish = (outcome: PollOutcome): void => {
        clearTimeout(timer);
        if (runner.waiter === waiter) runner.waiter = null;
        runner.lastSeenAt = this.clock.now();
        resolve(outcome);
      };
      const waiter: Waiter = { resolve: finish };
      runner.waiter = waiter;
      this.assignJobs();
    });
  }

  renew(runner: Runner, jobId: number): { cancelRequested: boolean } {
    const job = runner.job;
    if (!job || job.id !== jobId) throw new GitHubHttpError(404, `Job ${jobId} is not assigned to this runner`);
    runner.lastRenewAt = this.clock.now();
    runner.lastSeenAt = runner.lastRenewAt;
    return { cancelRequested: job.cancelRequested !== null };
  }

  complete(runner: Runner, jobId: number, conclusion: JobConclusion): Job {
    const job = runner.job;
    if (!job || job.id !== jobId) throw new GitHubHttpError(404, `Job ${jobId} is not assigned to this runner`);
    this.finishJob(job, job.cancelRequested !== null && conclusion !== 'success' ? 'cancelled' : conclusion);
    return job;
  }

  closeSession(runner: Runner): void {
    runner.sessionId = null;
    runner.status = 'offline';
    runner.waiter?.resolve({ kind: 'none' });
  }

  // --- jobs -----------------------------------------------------------------------------------

  createJob(input: JobInput): Job {
    const repo = this.repo(input.repository);
    if (!repo) throw new GitHubHttpError(404, `repository ${input.repository} is not in any installation`);
    if (input.labels.length === 0) throw new GitHubHttpError(422, 'a job needs at least one runs-on label');
    const now = this.clock.now();
    let run = input.runId ? this.runs.get(input.runId) : undefined;
    if (!run || run.attempt !== (input.runAttempt ?? run.attempt)) {
      const runNumber = (this.runNumbers.get(repo.id) ?? 0) + 1;
      this.runNumbers.set(repo.id, runNumber);
      run = {
        id: input.runId ?? this.nextId.run++,
        repo,
        attempt: input.runAttempt ?? 1,
        runNumber,
        workflowName: input.workflowName ?? 'CI',
        headSha: randomBytes(20).toString('hex'),
        headBranch: input.headRepository ? 'feature' : 'main',
        event: input.event ?? (input.headRepository ? 'pull_request' : 'push'),
        headRepository: input.headRepository ?? repo.fullName,
        createdAt: now,
        updatedAt: now,
        jobs: [],
      };
      this.runs.set(run.id, run);
      this.emitRun(run, 'requested');
    }
    const job: Job = {
      id: this.nextId.job++,
      scaleSetJobId: randomUUID(),
      scaleSetId: null,
      run,
      repo,
      installationId: repo.installationId,
      name: input.name ?? 'build',
      labels: [...input.labels],
      status: 'queued',
      conclusion: null,
      runner: null,
      createdAt: now,
      startedAt: null,
      completedAt: null,
      durationMs: input.durationMs ?? 1000,
      command: input.command ?? null,
      expectedConclusion: input.conclusion ?? 'success',
      cancelRequested: null,
    };
    run.jobs.push(job);
    run.updatedAt = now;
    this.jobs.set(job.id, job);
    this.emitJob(job, 'queued');
    this.routing.jobQueued(job);
    this.assignJobs();
    return job;
  }

  cancelJob(id: number): Job {
    const job = this.jobs.get(id);
    if (!job) throw new GitHubHttpError(404, 'Not Found');
    if (job.status === 'queued') {
      // Cancelled before any runner took it: straight to completed, no in_progress (ARC docs).
      job.runner = { id: 0, name: '', groupId: 0, groupName: '' };
      this.finishJob(job, 'cancelled');
    } else if (job.status === 'in_progress') {
      job.cancelRequested ??= this.clock.now();
    }
    return job;
  }

  /** Oldest queued job first, to the runner that has waited longest, labels case-insensitive. */
  assignJobs(): void {
    const queued = [...this.jobs.values()].filter((j) => j.status === 'queued').sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    for (const job of queued) {
      const runner = [...this.runners.values()]
        .filter((r) => r.waiter && !r.busy && r.status === 'online' && this.canRun(r, job))
        .sort((a, b) => a.lastSeenAt - b.lastSeenAt)[0];
      if (!runner) continue;
      const now = this.clock.now();
      runner.busy = true;
      runner.job = job;
      runner.lastRenewAt = now;
      job.status = 'in_progress';
      job.startedAt = now;
      job.runner = { id: runner.id, name: runner.name, groupId: runner.runnerGroupId, groupName: this.groupName(runner) };
      job.run.updatedAt = now;
      const firstToStart = job.run.jobs.every((j) => j === job || j.status === 'queued');
      this.emitJob(job, 'in_progress');
      if (firstToStart) this.emitRun(job.run, 'in_progress');
      this.routing.jobStarted(job, runner);
      runner.waiter?.resolve({ kind: 'job', job });
    }
  }

  /** Time-driven rules: offline runners, lost runners, the queue timeout, runner cleanup. */
  sweep(): void {
    const now = this.clock.now();
    for (const runner of [...this.runners.values()]) {
      if (runner.busy && runner.job) {
        const lost = now - runner.lastRenewAt > this.options.lostRunnerSeconds * 1000;
        const cancelOverdue = runner.job.cancelRequested !== null && now - runner.job.cancelRequested > this.options.lostRunnerSeconds * 1000;
        if (lost || cancelOverdue) this.finishJob(runner.job, cancelOverdue && !lost ? 'cancelled' : 'failure');
        continue;
      }
      if (runner.status === 'online' && !runner.waiter && now - runner.lastSeenAt > this.options.runnerHeartbeatSeconds * 1000) {
        runner.status = 'offline';
      }
      // GitHub removes unused JIT runners, and ephemeral runners offline for more than a day.
      if (runner.status === 'offline' && now - runner.lastSeenAt > ONE_DAY_MS) this.removeRunner(runner);
    }
    for (const job of this.jobs.values()) {
      if (job.status === 'queued' && now - job.createdAt > this.options.queuedJobTimeoutSeconds * 1000) {
        job.runner = { id: 0, name: '', groupId: 0, groupName: '' };
        this.finishJob(job, 'cancelled');
      }
    }
  }

  toSimJob(job: Job): SimJob {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return {
      id: job.id,
      scaleSetJobId: job.scaleSetJobId,
      scaleSetId: job.scaleSetId,
      runId: job.run.id,
      runAttempt: job.run.attempt,
      repository: job.repo.fullName,
      name: job.name,
      workflowName: job.run.workflowName,
      labels: job.labels,
      status: job.status,
      conclusion: job.conclusion,
      runnerId: job.runner?.id ?? null,
      runnerName: job.runner?.name ?? null,
      createdAt: new Date(job.createdAt).toISOString(),
      startedAt: iso(job.startedAt),
      completedAt: iso(job.completedAt),
      durationMs: job.durationMs,
      command: job.command,
      expectedConclusion: job.expectedConclusion,
      cancelRequested: job.cancelRequested !== null,
    };
  }

  toSimRunner(runner: Runner): SimRunner {
    return {
      id: runner.id,
      name: runner.name,
      scope: runner.repo ? `repo:${runner.repo.fullName}` : `org:${runner.owner}`,
      status: runner.status,
      busy: runner.busy,
      ephemeral: true,
      labels: runner.labels.map((l) => l.name),
      runnerGroupId: runner.runnerGroupId,
      scaleSetId: runner.scaleSetId,
      jobId: runner.job?.id ?? null,
      jitUsed: runner.jitUsed,
    };
  }

  toSimInstallation(installation: Installation): SimInstallation {
    return {
      id: installation.id,
      account: installation.account,
      repositories: installation.repos.map((r) => ({ id: r.id, name: r.name, fullName: r.fullName })),
      permissions: installation.permissions,
      repositorySelection: installation.repositorySelection,
    };
  }

  nextCheckRunId(): number {
    return this.nextId.check++;
  }

  private canRun(runner: Runner, job: Job): boolean {
    if (runner.installationId !== job.installationId) return false;
    // Organization runners serve a public repository only if their group allows public repositories.
    if (!runner.repo && job.repo.visibility === 'public' && !this.groupOf(runner).allowsPublicRepositories) return false;
    // A scale set's runners take what GitHub assigned to that scale set, whatever the repository
    // within its scope (no job-to-runner binding: rhobuild/runpool repository-cache-scope ADR);
    // other runners never take a job a scale set holds.
    const holder = this.routing.holder(job);
    if (runner.scaleSetId !== null) return holder?.scaleSetId === runner.scaleSetId && holder.ready;
    if (holder) return false;
    if (runner.repo && runner.repo.id !== job.repo.id) return false;
    const names = new Set(runner.labels.map((l) => l.name.toLowerCase()));
    return job.labels.every((l) => names.has(l.toLowerCase()));
  }

  private finishJob(job: Job, conclusion: JobConclusion): void {
    if (job.status === 'completed') return;
    const now = this.clock.now();
    job.status = 'completed';
    job.conclusion = conclusion;
    job.completedAt = now;
    job.startedAt ??= now;
    job.run.updatedAt = now;
    const runner = [...this.runners.values()].find((r) => r.job === job);
    if (runner) {
      runner.busy = false;
      runner.job = null;
      // Ephemeral (JIT) runners are de-registered after their one job.
      this.removeRunner(runner);
    }
    this.emitJob(job, 'completed');
    this.routing.jobFinished(job, runner);
    if (job.run.jobs.every((j) => j.status === 'completed')) this.emitRun(job.run, 'completed');
  }

  private removeRunner(runner: Runner): void {
    this.runners.delete(runner.id);
    runner.waiter?.resolve({ kind: 'deleted' });
  }

  private labelId(name: string): number {
    const key = name.toLowerCase();
    let id = this.labelIds.get(key);
    if (id === undefined) {
      id = this.nextId.label++;
      this.labelIds.set(key, id);
    }
    return id;
  }
}

export function randomDelay([min, max]: [number, number]): number {
  return max <= min ? min : randomInt(min, max + 1);
}
