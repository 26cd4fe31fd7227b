import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { SimFlavour, SimScaleSet } from './api.js';
import { ActionsTokens, type IssuedToken, type TenantScope } from './actions-tokens.js';
import type { SimClock } from './clock.js';
import { ACTIONS_EXCEPTION, ActionsServiceError } from './errors.js';
import { encodeJitConfig } from './jit-config.js';
import { MAX_JOB_MESSAGES, jobMessage, jobResult, type JobMessage, type JobMessageType, type QueueMessage, type Statistics } from './scale-set-messages.js';
import type { Job, Runner, RunnerGroup, ScaleSetRouting, World } from './world.js';

/**
 * GitHub's runner scale sets as the Actions service ("broker") keeps them (contracts/scale-set.md):
 * scale sets per runner group, one message session each, a message queue per scale set, and the
 * rules by which queued jobs reach a scale set. The rules are the measured ones
 * (../../../shared/reference/scale-set-protocol.md §4-§6):
 * - announced capacity is admission: a job goes to a scale set while the jobs it holds are fewer
 *   than the capacity its session last announced (`X-ScaleSetMaxCapacity`);
 * - a job that queues while the live session announces 0 is excluded from that scale set for good;
 * - github.com assigns directly (`JobAssigned`, runnerRequestId 0); GHES offers (`JobAvailable`)
 *   and waits for the listener to acquire;
 * - a session without polls stays active (a ghost after a kill) until `sessionIdleSeconds` pass;
 * - `JobCompleted` may come late (`jobCompletedDelayMs`); an assignment no runner takes within
 *   `reassignAfterSeconds` is cancelled and made again, three times at most.
 * The HTTP side is actions-service.ts.
 */

export interface ScaleSetRules {
  flavour: SimFlavour;
  pollWaitMs: number;
  sessionIdleMs: number;
  adminTokenMs: number;
  queueTokenMs: number;
  jobCompletedDelayMs: number;
  reassignAfterMs: number;
  /** Labels besides the name are honoured (GHES 3.21+); otherwise silently dropped. */
  customLabels: boolean;
}

export type PollOutcome = { kind: 'message'; message: QueueMessage } | { kind: 'empty' } | { kind: 'unauthorized' } | { kind: 'gone' };

interface OpenPoll {
  lastMessageId: number;
  finish(outcome: PollOutcome): void;
}

export interface Session {
  id: string;
  ownerName: string;
  token: string;
  tokenExpiresAt: number;
  lastActivityAt: number;
  poll: OpenPoll | null;
}

export interface ScaleSet {
  id: number;
  name: string;
  runnerGroupId: number;
  labels: string[];
  disableUpdate: boolean;
  createdOn: number;
  scope: TenantScope;
  session: Session | null;
  /** The capacity a session last announced; null until one did. */
  capacity: number | null;
  /** Jobs that queued while the live session announced 0. */
  excluded: Set<number>;
  /** Job messages not yet packed into a queue message, each due at a time (late JobCompleted). */
  outbox: { message: JobMessage; dueAt: number }[];
  /** Queue messages delivered or ready, until acknowledged. */
  queue: QueueMessage[];
  nextMessageId: number;
}

interface Claim {
  scaleSetId: number;
  state: 'available' | 'assigned' | 'running';
  runnerRequestId: number;
  acquired: boolean;
  assignedAt: number;
}

export interface ScaleSetInput {
  name: string;
  runnerGroupId: number;
  labels: string[];
  disableUpdate: boolean;
}

const MAX_REASSIGNMENTS = 3;

export class ScaleSets implements ScaleSetRouting {
  readonly all = new Map<number, ScaleSet>();
  readonly tokens: ActionsTokens;
  /** A fault: this many acknowledgements answer 204 and change nothing. */
  dropAcks = 0;
  private readonly claims = new Map<number, Claim>();
  private readonly reassignments = new Map<number, number>();
  private readonly queueTokens = new Map<string, { scaleSetId: number; sessionId: string }>();
  private readonly tenantId = randomBytes(6).toString('hex');
  private nextScaleSetId = 1;
  private nextRequestId = 1000;

  constructor(
    private readonly world: World,
    private readonly clock: SimClock,
    private readonly rules: () => ScaleSetRules,
    private readonly urls: { web: () => string; runnerUrl: () => string },
  ) {
    this.tokens = new ActionsTokens(clock, () => this.rules().adminTokenMs);
    world.attachScaleSets(this);
  }

  // --- URLs ------------------------------------------------------------------------------------

  /** github.com's broker answers under /rest/ (actions/actions-runner-controller#4355); GHES under its pipelines tenant. */
  tenantUrl(): string {
    return `${this.urls.web()}${this.tenantPath()}/`;
  }

  /** The path the tenant's routes live under. */
  tenantPath(): string {
    return this.rules().flavour === 'ghes' ? `/_services/pipelines/${this.tenantId}` : '/_broker/rest';
  }

  private queueUrl(scaleSet: ScaleSet, session: Session): string {
    // github.com's queue is outside the tenant (broker …/scalesets/message, #4370); GHES's is not.
    return this.rules().flavour === 'ghes'
      ? `${this.tenantUrl()}_apis/runtime/runnerscalesets/${scaleSet.id}/messages?sessionId=${session.id}`
      : `${this.urls.web()}/_broker/scalesets/message?sessionId=${session.id}`;
  }

  // --- auth chain ------------------------------------------------------------------------------

  issueRegistrationToken(scope: TenantScope): IssuedToken {
    return this.tokens.issueRegistrationToken(scope);
  }

  /** POST /actions/runner-registration: undefined when the token is no good for that URL. */
  async connect(registrationToken: string, configUrl: string): Promise<{ url: string; token: string } | 'unauthorized' | 'not-found'> {
    const scope = this.tokens.registrationScope(registrationToken);
    if (!scope) return 'unauthorized';
    const path = decodeURIComponent(new URL(configUrl).pathname).replace(/^\/+|\/+$/g, '').toLowerCase();
    const expected = (scope.repo ? scope.repo.fullName : scope.installation.account.login).toLowerCase();
    if (path !== expected) return 'not-found';
    const admin = await this.tokens.issueAdminToken(scope);
    return { url: this.tenantUrl(), token: admin.token };
  }

  // --- runner groups and scale sets ------------------------------------------------------------

  runnerGroups(scope: TenantScope, name: string): RunnerGroup[] {
    return this.world.runnerGroups(scope.installation, scope.repo).filter((g) => g.name.toLowerCase() === name.toLowerCase());
  }

  find(scope: TenantScope, filter: { runnerGroupId?: number; name?: string }): ScaleSet[] {
    return this.inScope(scope).filter(
      (s) => (filter.runnerGroupId === undefined || s.runnerGroupId === filter.runnerGroupId) && (filter.name === undefined || s.name.toLowerCase() === filter.name.toLowerCase()),
    );
  }

  get(scope: TenantScope, id: number): ScaleSet {
    const scaleSet = this.all.get(id);
    if (!scaleSet || !this.sameScope(scaleSet.scope, scope)) {
      throw new ActionsServiceError(404, ACTIONS_EXCEPTION.scaleSetNotFound, `No RunnerScaleSet found with identifier ${id}.`);
    }
    return scaleSet;
  }

  create(scope: TenantScope, input: ScaleSetInput): ScaleSet {
    this.checkPlacement(scope, input.name, input.runnerGroupId, undefined);
    const scaleSet: ScaleSet = {
      id: this.nextScaleSetId++,
      name: input.name,
      runnerGroupId: input.runnerGroupId,
      labels: this.labelsFor(input.name, input.labels),
      disableUpdate: input.disableUpdate,
      createdOn: this.clock.now(),
      scope,
      session: null,
      capacity: null,
      excluded: new Set(),
      outbox: [],
      queue: [],
      nextMessageId: 1,
    };
    this.all.set(scaleSet.id, scaleSet);
    return scaleSet;
  }

  update(scope: TenantScope, id: number, patch: Partial<ScaleSetInput>): ScaleSet {
    const scaleSet = this.get(scope, id);
    const name = patch.name ?? scaleSet.name;
    const runnerGroupId = patch.runnerGroupId ?? scaleSet.runnerGroupId;
    this.checkPlacement(scope, name, runnerGroupId, scaleSet);
    const onlyName = scaleSet.labels.length === 1 && scaleSet.labels[0] === scaleSet.name;
    scaleSet.name = name;
    scaleSet.runnerGroupId = runnerGroupId;
    // Labels left out keep what they were, except the name itself when it was the only label.
    scaleSet.labels = this.labelsFor(name, patch.labels ?? (onlyName ? [] : scaleSet.labels));
    if (patch.disableUpdate !== undefined) scaleSet.disableUpdate = patch.disableUpdate;
    this.admit();
    return scaleSet;
  }

  /**
   * Refused while a runner of it runs a job; jobs it held but no runner took go back to the queue,
   * idle runners are removed (actions/actions-runner-controller docs/adrs/2022-10-27-runnerscaleset-lifetime.md).
   */
  delete(scope: TenantScope, id: number): void {
    const scaleSet = this.get(scope, id);
    if (this.claimsOf(scaleSet).some(([, c]) => c.state === 'running')) {
      throw new ActionsServiceError(400, ACTIONS_EXCEPTION.jobStillRunning, `Runner scale set ${scaleSet.name} has jobs running; scale it down to 0 first.`);
    }
    for (const [jobId] of this.claimsOf(scaleSet)) this.claims.delete(jobId);
    for (const runner of this.runnersOf(scaleSet)) this.world.deleteRunner(runner);
    this.dropSession(scaleSet);
    this.all.delete(id);
    this.admit();
  }

  private checkPlacement(scope: TenantScope, name: string, runnerGroupId: number, self: ScaleSet | undefined): void {
    if (!this.world.runnerGroups(scope.installation, scope.repo).some((g) => g.id === runnerGroupId)) {
      throw new ActionsServiceError(400, ACTIONS_EXCEPTION.invalidRequest, `Runner group ${runnerGroupId} does not exist or is not visible to this scope.`);
    }
    const clash = this.find(scope, { runnerGroupId, name }).find((s) => s !== self);
    if (clash) {
      throw new ActionsServiceError(409, ACTIONS_EXCEPTION.scaleSetExists, `A runner scale set named ${name} already exists in runner group ${runnerGroupId}.`);
    }
  }

  /** The name is the label; other labels count only where custom labels are on (actions/scaleset README). */
  private labelsFor(name: string, labels: string[]): string[] {
    if (!this.rules().customLabels || labels.length === 0) return [name];
    return labels.filter((l, i) => labels.findIndex((m) => m.toLowerCase() === l.toLowerCase()) === i);
  }

  // --- runners ---------------------------------------------------------------------------------

  generateJitConfig(scope: TenantScope, id: number, input: { name: string; workFolder: string }): { runner: Runner; encodedJITConfig: string } {
    const scaleSet = this.get(scope, id);
    if (this.world.runnerNamed(scope.installation, scope.repo, input.name)) {
      throw new ActionsServiceError(409, ACTIONS_EXCEPTION.agentExists, `Agent ${input.name} exists in pool ${scaleSet.runnerGroupId}.`);
    }
    const runner = this.world.createScaleSetRunner({
      name: input.name,
      installation: scope.installation,
      repo: scope.repo,
      labels: scaleSet.labels,
      runnerGroupId: scaleSet.runnerGroupId,
      scaleSetId: scaleSet.id,
      workFolder: input.workFolder || '_work',
    });
    const encodedJITConfig = encodeJitConfig(runner, { web: this.urls.web(), runnerUrl: this.urls.runnerUrl(), groupName: this.world.groupName(runner) });
    return { runner, encodedJITConfig };
  }

  /** Pool 0 is every runner of the scope, scale set or not. */
  runnersInScope(scope: TenantScope): Runner[] {
    return [...this.world.runners.values()]
      .filter((r) => r.installationId === scope.installation.id && (scope.repo ? r.repo?.id === scope.repo.id : r.repo === null))
      .sort((a, b) => a.id - b.id);
  }

  runner(scope: TenantScope, id: number): Runner {
    const runner = this.runnersInScope(scope).find((r) => r.id === id);
    if (!runner) throw new ActionsServiceError(404, ACTIONS_EXCEPTION.agentNotFound, `Agent ${id} does not exist in pool 0.`);
    return runner;
  }

  removeRunner(scope: TenantScope, id: number): void {
    const runner = this.runner(scope, id);
    if (runner.busy) throw new ActionsServiceError(400, ACTIONS_EXCEPTION.jobStillRunning, `Runner ${runner.name} is still running a job.`);
    this.world.deleteRunner(runner);
  }

  // --- sessions --------------------------------------------------------------------------------

  createSession(scope: TenantScope, id: number, ownerName: string): Session {
    const scaleSet = this.get(scope, id);
    if (scaleSet.session && this.live(scaleSet.session)) {
      // GitHub keeps a session whose owner died until it expires (scale-set-protocol.md §4).
      throw new ActionsServiceError(409, ACTIONS_EXCEPTION.sessionConflict, `The actions runner scaleset ${scaleSet.name} already has an active session for owner ${scaleSet.session.ownerName}.`);
    }
    this.dropSession(scaleSet);
    const now = this.clock.now();
    const session: Session = { id: randomUUID(), ownerName, token: '', tokenExpiresAt: 0, lastActivityAt: now, poll: null };
    scaleSet.session = session;
    this.renewToken(scaleSet, session);
    return session;
  }

  /** PATCH …/sessions/{id}: a new queue token (the old one stops working). */
  refreshSession(scope: TenantScope, id: number, sessionId: string): Session {
    const scaleSet = this.get(scope, id);
    const session = this.currentSession(scaleSet, sessionId);
    session.lastActivityAt = this.clock.now();
    this.renewToken(scaleSet, session);
    return session;
  }

  deleteSession(scope: TenantScope, id: number, sessionId: string): void {
    const scaleSet = this.get(scope, id);
    this.currentSession(scaleSet, sessionId);
    this.dropSession(scaleSet);
  }

  sessionAnswer(scaleSet: ScaleSet, session: Session): Record<string, unknown> {
    return {
      sessionId: session.id,
      ownerName: session.ownerName,
      runnerScaleSet: this.scaleSetAnswer(scaleSet),
      messageQueueUrl: this.queueUrl(scaleSet, session),
      messageQueueAccessToken: session.token,
      statistics: this.statistics(scaleSet),
    };
  }

  scaleSetAnswer(scaleSet: ScaleSet): Record<string, unknown> {
    return {
      id: scaleSet.id,
      name: scaleSet.name,
      runnerGroupId: scaleSet.runnerGroupId,
      runnerGroupName: this.world.runnerGroups(scaleSet.scope.installation, scaleSet.scope.repo).find((g) => g.id === scaleSet.runnerGroupId)?.name ?? 'Default',
      labels: scaleSet.labels.map((name) => ({ type: 'System', name })),
      RunnerSetting: scaleSet.disableUpdate ? { disableUpdate: true } : {},
      createdOn: new Date(scaleSet.createdOn).toISOString(),
      runnerJitConfigUrl: `${this.tenantUrl()}_apis/runtime/runnerscalesets/${scaleSet.id}/generatejitconfig`,
      statistics: this.statistics(scaleSet),
    };
  }

  private currentSession(scaleSet: ScaleSet, sessionId: string): Session {
    const session = scaleSet.session;
    if (!session || session.id !== sessionId || !this.live(session)) {
      if (session && !this.live(session)) this.dropSession(scaleSet);
      throw new ActionsServiceError(404, ACTIONS_EXCEPTION.sessionNotFound, `No session ${sessionId} for runner scale set ${scaleSet.name}.`);
    }
    return session;
  }

  private renewToken(scaleSet: ScaleSet, session: Session): void {
    this.queueTokens.delete(session.token);
    session.token = randomBytes(32).toString('base64url');
    session.tokenExpiresAt = this.clock.now() + this.rules().queueTokenMs;
    this.queueTokens.set(session.token, { scaleSetId: scaleSet.id, sessionId: session.id });
  }

  /** Active while a poll is open or the last one ended less than `sessionIdleMs` ago. */
  private live(session: Session): boolean {
    return session.poll !== null || this.clock.now() - session.lastActivityAt < this.rules().sessionIdleMs;
  }

  private dropSession(scaleSet: ScaleSet): void {
    const session = scaleSet.session;
    if (!session) return;
    scaleSet.session = null;
    // Its token stays known, so a ghost's owner hears 404 (session gone), not 401.
    session.poll?.finish({ kind: 'gone' });
  }

  /** The scale set and session a queue token opens, or why not. */
  bySessionToken(token: string): { scaleSet: ScaleSet; session: Session } | 'unauthorized' | 'gone' {
    const ref = this.queueTokens.get(token);
    if (!ref) return 'unauthorized';
    const scaleSet = this.all.get(ref.scaleSetId);
    const session = scaleSet?.session;
    if (!scaleSet || !session || session.id !== ref.sessionId || !this.live(session)) {
      if (scaleSet && session && !this.live(session)) this.dropSession(scaleSet);
      return 'gone';
    }
    if (session.tokenExpiresAt <= this.clock.now()) return 'unauthorized';
    return { scaleSet, session };
  }

  // --- the message queue -----------------------------------------------------------------------

  /**
   * The long poll: the oldest unacknowledged message after `lastMessageId`, or a new one packed
   * from due job messages, or — after `pollWaitMs` with nothing — empty (202). `closed` settles
   * when the client goes away, which ends the poll but not the session.
   */
  poll(scaleSet: ScaleSet, session: Session, lastMessageId: number, capacity: number, closed: Promise<void>): Promise<PollOutcome> {
    session.lastActivityAt = this.clock.now();
    session.poll?.finish({ kind: 'empty' });
    if (scaleSet.capacity !== capacity) {
      scaleSet.capacity = capacity;
      this.admit();
    }
    const ready = this.nextMessage(scaleSet, lastMessageId);
    if (ready) return Promise.resolve({ kind: 'message', message: ready });
    return new Promise<PollOutcome>((resolve) => {
      const timer = setTimeout(() => finish({ kind: 'empty' }), this.rules().pollWaitMs);
      const finish = (outcome: PollOutcome): void => {
        clearTimeout(timer);
        if (session.poll === poll) {
          session.poll = null;
          session.lastActivityAt = this.clock.now();
        }
        resolve(outcome);
      };
      const poll: OpenPoll = { lastMessageId, finish };
      session.poll = poll;
      void closed.then(() => finish({ kind: 'empty' }));
    });
  }

  acknowledge(scaleSet: ScaleSet, session: Session, messageId: number): void {
    session.lastActivityAt = this.clock.now();
    if (this.dropAcks > 0) {
      this.dropAcks -= 1;
      return;
    }
    scaleSet.queue = scaleSet.queue.filter((m) => m.messageId !== messageId);
  }

  /** GHES: the listener takes offered jobs; each becomes assigned (a JobAssigned follows). */
  acquire(scaleSet: ScaleSet, session: Session, runnerRequestIds: number[]): number[] {
    session.lastActivityAt = this.clock.now();
    const acquired: number[] = [];
    for (const [jobId, claim] of this.claimsOf(scaleSet)) {
      const job = this.world.jobs.get(jobId);
      if (!job || claim.state !== 'available' || !runnerRequestIds.includes(claim.runnerRequestId)) continue;
      claim.state = 'assigned';
      claim.acquired = true;
      claim.assignedAt = this.clock.now();
      acquired.push(claim.runnerRequestId);
      this.enqueue(scaleSet, jobMessage('JobAssigned', job, { runnerRequestId: claim.runnerRequestId, assignedAt: claim.assignedAt }));
    }
    if (acquired.length > 0) this.world.assignJobs();
    return acquired;
  }

  statistics(scaleSet: ScaleSet): Statistics {
    const claims = this.claimsOf(scaleSet).map(([, c]) => c);
    const runners = this.runnersOf(scaleSet);
    return {
      totalAvailableJobs: claims.filter((c) => c.state === 'available').length,
      totalAcquiredJobs: claims.filter((c) => c.acquired && c.state === 'assigned').length,
      totalAssignedJobs: claims.filter((c) => c.state !== 'available').length,
      totalRunningJobs: claims.filter((c) => c.state === 'running').length,
      totalRegisteredRunners: runners.length,
      totalBusyRunners: runners.filter((r) => r.busy).length,
      totalIdleRunners: runners.filter((r) => !r.busy && r.status === 'online').length,
    };
  }

  private enqueue(scaleSet: ScaleSet, message: JobMessage, delayMs = 0): void {
    scaleSet.outbox.push({ message, dueAt: this.clock.now() + delayMs });
    this.wake(scaleSet);
  }

  private wake(scaleSet: ScaleSet): void {
    const poll = scaleSet.session?.poll;
    if (!poll) return;
    const message = this.nextMessage(scaleSet, poll.lastMessageId);
    if (message) poll.finish({ kind: 'message', message });
  }

  private nextMessage(scaleSet: ScaleSet, lastMessageId: number): QueueMessage | undefined {
    const unacknowledged = scaleSet.queue.find((m) => m.messageId > lastMessageId);
    if (unacknowledged) return unacknowledged;
    const now = this.clock.now();
    const batch = scaleSet.outbox.filter((o) => o.dueAt <= now).slice(0, MAX_JOB_MESSAGES);
    if (batch.length === 0) return undefined;
    scaleSet.outbox = scaleSet.outbox.filter((o) => !batch.includes(o));
    const message: QueueMessage = {
      messageId: scaleSet.nextMessageId++,
      messageType: 'RunnerScaleSetJobMessages',
      body: JSON.stringify(batch.map((o) => o.message)),
      statistics: this.statistics(scaleSet),
    };
    scaleSet.queue.push(message);
    return message;
  }

  /** A test's hand-made job message (e.g. a type the client does not know yet). */
  inject(scaleSet: ScaleSet, message: JobMessage): void {
    this.enqueue(scaleSet, message);
  }

  // --- routing (the world's hooks) -------------------------------------------------------------

  holder(job: Job): { scaleSetId: number; ready: boolean } | undefined {
    const claim = this.claims.get(job.id);
    return claim ? { scaleSetId: claim.scaleSetId, ready: claim.state !== 'available' } : undefined;
  }

  jobQueued(job: Job): void {
    if (this.all.size === 0) return;
    for (const scaleSet of this.matching(job)) {
      // Zero is a trapdoor (rhobuild/runpool docs/adrs/2026-08-11-advertised-capacity.md).
      if (scaleSet.session && this.live(scaleSet.session) && scaleSet.capacity === 0) scaleSet.excluded.add(job.id);
    }
    this.admit();
  }

  jobStarted(job: Job, runner: Runner): void {
    const claim = this.claims.get(job.id);
    const scaleSet = claim && this.all.get(claim.scaleSetId);
    if (!claim || !scaleSet) return;
    claim.state = 'running';
    this.enqueue(scaleSet, jobMessage('JobStarted', job, { runnerRequestId: claim.runnerRequestId, assignedAt: claim.assignedAt, runner }));
  }

  jobFinished(job: Job, runner: Runner | undefined): void {
    const claim = this.claims.get(job.id);
    const scaleSet = claim && this.all.get(claim.scaleSetId);
    if (!claim) return;
    this.claims.delete(job.id);
    if (scaleSet) {
      const message = jobMessage('JobCompleted', job, { runnerRequestId: claim.runnerRequestId, assignedAt: claim.assignedAt, runner, result: jobResult(job.conclusion) });
      // Lifecycle messages are hints: JobCompleted was seen six minutes late (scale-set-protocol.md §5).
      this.enqueue(scaleSet, message, this.rules().jobCompletedDelayMs);
    }
    this.admit();
  }

  /**
   * Queued jobs, oldest first, go to a matching scale set with room under its announced capacity
   * (several match: any of them, as GitHub's "assignment race", actions/actions-runner-controller#4004).
   */
  private admit(): void {
    if (this.all.size === 0) return;
    const ghes = this.rules().flavour === 'ghes';
    const now = this.clock.now();
    const held = new Map<number, number>();
    for (const claim of this.claims.values()) held.set(claim.scaleSetId, (held.get(claim.scaleSetId) ?? 0) + 1);
    let assigned = false;
    const queued = [...this.world.jobs.values()].filter((j) => j.status === 'queued' && !this.claims.has(j.id)).sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    for (const job of queued) {
      const candidates = this.matching(job).filter((s) => !s.excluded.has(job.id) && s.capacity !== null && (held.get(s.id) ?? 0) < s.capacity);
      const scaleSet = candidates[candidates.length > 1 ? randomInt(candidates.length) : 0];
      if (!scaleSet) continue;
      const claim: Claim = { scaleSetId: scaleSet.id, state: ghes ? 'available' : 'assigned', runnerRequestId: ghes ? this.nextRequestId++ : 0, acquired: false, assignedAt: now };
      this.claims.set(job.id, claim);
      held.set(scaleSet.id, (held.get(scaleSet.id) ?? 0) + 1);
      job.scaleSetId = scaleSet.id;
      const type: JobMessageType = ghes ? 'JobAvailable' : 'JobAssigned';
      const acquireJobUrl = `${this.tenantUrl()}_apis/runtime/runnerscalesets/${scaleSet.id}/acquirejobs?api-version=6.0-preview`;
      this.enqueue(scaleSet, jobMessage(type, job, { runnerRequestId: claim.runnerRequestId, assignedAt: now, acquireJobUrl }));
      assigned ||= !ghes;
    }
    if (assigned) this.world.assignJobs();
  }

  /** Same installation, the scale set's repository if it has one, and every runs-on label among its labels. */
  private matching(job: Job): ScaleSet[] {
    return [...this.all.values()].filter((s) => {
      if (s.scope.installation.id !== job.installationId) return false;
      if (s.scope.repo && s.scope.repo.id !== job.repo.id) return false;
      const labels = new Set(s.labels.map((l) => l.toLowerCase()));
      return job.labels.every((l) => labels.has(l.toLowerCase()));
    });
  }

  // --- time ------------------------------------------------------------------------------------

  /** Ghost sessions expire, expired queue tokens end open polls (401), late messages come due, stale assignments are made again. */
  sweep(): void {
    const now = this.clock.now();
    let released = false;
    for (const scaleSet of this.all.values()) {
      const session = scaleSet.session;
      if (session && !this.live(session)) this.dropSession(scaleSet);
      else if (session?.poll && session.tokenExpiresAt <= now) session.poll.finish({ kind: 'unauthorized' });
      this.wake(scaleSet);
    }
    const reassignAfterMs = this.rules().reassignAfterMs;
    for (const [jobId, claim] of [...this.claims]) {
      const job = this.world.jobs.get(jobId);
      const scaleSet = this.all.get(claim.scaleSetId);
      const count = this.reassignments.get(jobId) ?? 0;
      if (!job || !scaleSet || claim.state !== 'assigned' || now - claim.assignedAt <= reassignAfterMs || count >= MAX_REASSIGNMENTS) continue;
      // "Jobs may appear multiple times as JobAssigned followed by JobCompleted (canceled)" (actions/scaleset README).
      this.claims.delete(jobId);
      this.reassignments.set(jobId, count + 1);
      this.enqueue(scaleSet, jobMessage('JobCompleted', job, { runnerRequestId: claim.runnerRequestId, assignedAt: claim.assignedAt, result: 'canceled' }));
      released = true;
    }
    if (released) this.admit();
  }

  /** A fault: every queue token expires now (an open poll answers 401 at once). */
  expireQueueTokens(): void {
    for (const scaleSet of this.all.values()) {
      if (scaleSet.session) scaleSet.session.tokenExpiresAt = Math.min(scaleSet.session.tokenExpiresAt, this.clock.now());
    }
    this.sweep();
  }

  close(): void {
    for (const scaleSet of this.all.values()) scaleSet.session?.poll?.finish({ kind: 'empty' });
  }

  toSim(scaleSet: ScaleSet): SimScaleSet {
    const session = scaleSet.session;
    return {
      id: scaleSet.id,
      name: scaleSet.name,
      runnerGroupId: scaleSet.runnerGroupId,
      labels: [...scaleSet.labels],
      scope: scaleSet.scope.repo ? `repo:${scaleSet.scope.repo.fullName}` : `org:${scaleSet.scope.installation.account.login}`,
      capacity: scaleSet.capacity,
      session: session ? { id: session.id, ownerName: session.ownerName, polling: session.poll !== null, active: this.live(session) } : null,
      statistics: this.statistics(scaleSet),
      unacknowledgedMessageIds: scaleSet.queue.map((m) => m.messageId),
      excludedJobIds: [...scaleSet.excluded],
      jobIds: this.claimsOf(scaleSet).map(([id]) => id),
    };
  }

  // --- helpers ---------------------------------------------------------------------------------

  private inScope(scope: TenantScope): ScaleSet[] {
    return [...this.all.values()].filter((s) => this.sameScope(s.scope, scope)).sort((a, b) => a.id - b.id);
  }

  private sameScope(a: TenantScope, b: TenantScope): boolean {
    return a.installation.id === b.installation.id && (a.repo?.id ?? null) === (b.repo?.id ?? null);
  }

  private claimsOf(scaleSet: ScaleSet): [number, Claim][] {
    return [...this.claims].filter(([, c]) => c.scaleSetId === scaleSet.id);
  }

  private runnersOf(scaleSet: ScaleSet): Runner[] {
    return [...this.world.runners.values()].filter((r) => r.scaleSetId === scaleSet.id);
  }
}
