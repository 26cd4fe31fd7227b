import type { RunnerRelease } from './runner-versions.js';

export type { RunnerRelease } from './runner-versions.js';

/**
 * The simulator as tests and tools see it. Everything here is also reachable over `/_sim/*` (see
 * README.md), so the CLI and other processes can drive a simulator they did not start.
 */

export interface SimOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; use 0.0.0.0 when runners in containers must reach the sim. */
  host?: string;
  /** Where webhooks go; none are sent (but all are logged as failed) when unset. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Default: a random id per simulator (the CLI uses 424242), so simulators never share RunnerHub's Redis keys. */
  appId?: number;
  /** PEM of the App's private key; a fresh key per start when unset. */
  privateKey?: string;
  /** The URL runners are told to use (`ServerUrl` in the JIT config). Default: the sim's own URL. */
  runnerUrl?: string;
  /** Or only the host runners reach the sim at (e.g. Docker's bridge gateway), with the sim's port. */
  runnerHost?: string;
  /** Seconds without a runner poll before it goes offline. Default 30. */
  runnerHeartbeatSeconds?: number;
  /** Seconds without a renew before a busy runner's job fails. Default 60. */
  lostRunnerSeconds?: number;
  /** Seconds a job may stay queued before GitHub cancels it. Default 24 h. */
  queuedJobTimeoutSeconds?: number;
  /** Log requests (pino) to stdout. Default false. */
  logger?: boolean;
  /**
   * Runner releases GitHub knows: a runner whose version has a newer release older than 30 days
   * gets no job (runner-versions.ts). Default: 2.330.0, published 10 days before the sim started.
   */
  runnerReleases?: RunnerRelease[];
  /**
   * Which GitHub the Actions service (runner scale sets) behaves as: `github.com` (default) assigns
   * jobs directly, `ghes` offers them (`JobAvailable`) and waits for the listener to acquire them.
   */
  flavour?: SimFlavour;
  /** The scale-set side's timers and rules; shorten them in tests. */
  scaleSets?: ScaleSetOptions;
}

export type SimFlavour = 'github.com' | 'ghes';

export interface ScaleSetOptions {
  /** How long an empty long poll waits before 202. Default 50,000 (actions/scaleset README: ~50 s). */
  pollWaitMs?: number;
  /** How long a session with no poll stays active, e.g. a killed listener's ghost. Default 60. */
  sessionIdleSeconds?: number;
  /** Lifetime of the admin token (the JWT runner-registration returns). Default 3,600. */
  adminTokenSeconds?: number;
  /** Lifetime of a session's message-queue token. Default 3,600. */
  queueTokenSeconds?: number;
  /** JobCompleted reaches the queue this long after the job ended (a late hint). Default 0. */
  jobCompletedDelayMs?: number;
  /** An assigned job no runner takes within this long is cancelled and assigned again (at most 3 times). Default 300. */
  reassignAfterSeconds?: number;
  /** Honour labels besides the name: default true on ghes (3.21+), false on github.com (extra labels dropped). */
  customLabels?: boolean;
  /** Put a UTF-8 byte order mark before every JSON answer of the Actions service. Default false. */
  bom?: boolean;
}

export type AccountType = 'Organization' | 'User';
export type PermissionLevel = 'read' | 'write';

export interface InstallationInput {
  account: string;
  type?: AccountType;
  /** Repository names (without owner). */
  repositories: string[];
  /** Those of `repositories` that are public (the others are private). */
  publicRepositories?: string[];
  /** Default: everything RunnerHub needs (administration, organization_self_hosted_runners, actions, checks, metadata). */
  permissions?: Record<string, PermissionLevel>;
  repositorySelection?: 'all' | 'selected';
}

export interface SimInstallation {
  id: number;
  account: { login: string; id: number; type: AccountType };
  repositories: { id: number; name: string; fullName: string }[];
  permissions: Record<string, PermissionLevel>;
  repositorySelection: 'all' | 'selected';
}

export type JobStatus = 'queued' | 'in_progress' | 'completed';
export type JobConclusion = 'success' | 'failure' | 'cancelled' | 'timed_out' | 'skipped';

export interface JobInput {
  /** owner/name of a repository of some installation. */
  repository: string;
  labels: string[];
  name?: string;
  workflowName?: string;
  runId?: number;
  runAttempt?: number;
  /** How long the job runs when it has no command. Default 1000. */
  durationMs?: number;
  /** Run with `sh -c` by the runner; exit 0 = success. */
  command?: string;
  /** Reported when the job has no command. Default success. */
  conclusion?: JobConclusion;
  /** The run's trigger. Default push, or pull_request with headRepository. */
  event?: string;
  /** owner/name of a fork the run's code comes from (a pull request from a fork). Default: the repository. */
  headRepository?: string;
}

export interface SimJob {
  id: number;
  /** The job's id in scale-set messages (`jobId`, a GUID). */
  scaleSetJobId: string;
  /** The scale set GitHub last assigned the job to, if any. */
  scaleSetId: number | null;
  runId: number;
  runAttempt: number;
  repository: string;
  name: string;
  workflowName: string;
  labels: string[];
  status: JobStatus;
  conclusion: JobConclusion | null;
  runnerId: number | null;
  runnerName: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number;
  command: string | null;
  expectedConclusion: JobConclusion;
  cancelRequested: boolean;
}

export interface SimRunner {
  id: number;
  name: string;
  /** `repo:owner/name` or `org:login`. */
  scope: string;
  status: 'online' | 'offline';
  busy: boolean;
  ephemeral: boolean;
  labels: string[];
  runnerGroupId: number;
  /** Set for runners made from a scale set's JIT config. */
  scaleSetId: number | null;
  jobId: number | null;
  jitUsed: boolean;
}

export interface JitRunnerInput {
  /** `owner/name` for a repo runner, or `org` for an org runner. */
  repository?: string;
  org?: string;
  name: string;
  labels: string[];
  runnerGroupId?: number;
  workFolder?: string;
}

export interface WebhookFaults {
  /** Share of deliveries not sent and recorded as failed (`timed out`). */
  dropRate?: number;
  /** Share of deliveries sent twice with the same GUID. */
  duplicateRate?: number;
  /** Each delivery waits a random time in [min, max] ms before it is sent. */
  delayMs?: [number, number];
  /** Hold deliveries and send them in random order (with delayMs, reorders across the window). */
  reorder?: boolean;
}

export interface RestFault {
  method?: string;
  /** Regular expression matched against the path (without query). */
  path: string;
  /** Answer this status (GitHub's error body) instead of handling the request. */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Share of matching requests affected. Default 1. */
  rate?: number;
  /** Stop after this many affected requests. */
  times?: number;
}

export interface Faults {
  webhooks?: WebhookFaults;
  /** Also applies to the Actions service (scale sets): match its paths, e.g. `/_broker/scalesets/message` or `/messages`. */
  rest?: RestFault[];
  scaleSets?: ScaleSetFaults;
}

export interface ScaleSetFaults {
  /** The next N message acknowledgements answer 204 and change nothing (the message stays, to be redelivered). */
  dropAcks?: number;
  /** Put a UTF-8 byte order mark before JSON answers (as ScaleSetOptions.bom). */
  bom?: boolean;
}

/** A scale set's statistics, as its messages and sessions carry them (actions/scaleset types.go:133-141). */
export interface ScaleSetStatistics {
  totalAvailableJobs: number;
  totalAcquiredJobs: number;
  totalAssignedJobs: number;
  totalRunningJobs: number;
  totalRegisteredRunners: number;
  totalBusyRunners: number;
  totalIdleRunners: number;
}

export interface SimScaleSet {
  id: number;
  name: string;
  runnerGroupId: number;
  labels: string[];
  /** `repo:owner/name` or `org:login`. */
  scope: string;
  /** The capacity a session last announced (X-ScaleSetMaxCapacity); null until one did. */
  capacity: number | null;
  /** `active` false: expired, the next session create succeeds. */
  session: { id: string; ownerName: string; polling: boolean; active: boolean } | null;
  statistics: ScaleSetStatistics;
  unacknowledgedMessageIds: number[];
  /** Jobs that queued while the session announced capacity 0: never this scale set's. */
  excludedJobIds: number[];
  /** Jobs the scale set holds now (available, assigned or running). */
  jobIds: number[];
}

export interface ScaleSetInput {
  /** `owner/name` for a repository scale set, or `org` for an organization one. */
  repository?: string;
  org?: string;
  name: string;
  /** Default 1 (Default). */
  runnerGroupId?: number;
  /** Default: the name. */
  labels?: string[];
}

/** One call the Actions service answered (tests check retries and refreshes with it). */
export interface SimActionsRequest {
  at: string;
  operationId: string;
  method: string;
  path: string;
  status: number;
}

export interface RateLimits {
  /** Requests per hour per installation token. */
  installation?: number;
  /** Requests per hour with the App JWT. */
  app?: number;
  /** JIT configs per minute per App before the secondary limit. */
  jitPerMinute?: number;
}

export interface SimDelivery {
  id: number;
  guid: string;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  redelivery: boolean;
  deliveredAt: string;
  status: string;
  statusCode: number;
  duration: number;
  requestHeaders: Record<string, string>;
  payload: unknown;
  responseBody: string;
}

export interface ContractViolation {
  at: string;
  method: string;
  path: string;
  operationId: string | null;
  direction: 'request' | 'response' | 'webhook';
  errors: string[];
}

/** A check run as the simulator stored it (every App's, newest last). */
export interface SimCheckRun {
  id: number;
  repository: string;
  headSha: string;
  name: string;
  externalId: string | null;
  status: string;
  conclusion: string | null;
  output: { title?: string; summary?: string; text?: string; annotations?: unknown[] };
}

export interface GitHubSim {
  readonly url: string;
  readonly runnerUrl: string;
  readonly app: { id: number; clientId: string; slug: string; privateKey: string; webhookSecret: string; hookId: number };
  createInstallation(input: InstallationInput): SimInstallation;
  installations(): SimInstallation[];
  createJob(input: JobInput): SimJob;
  job(id: number): SimJob | undefined;
  jobs(): SimJob[];
  cancelJob(id: number): SimJob;
  runners(): SimRunner[];
  checkRuns(): SimCheckRun[];
  /** Same as the REST generate-jitconfig call, without auth: for tests of runners and executors. */
  createJitRunner(input: JitRunnerInput): { runner: SimRunner; encodedJitConfig: string };
  /** An organization runner group besides Default. */
  /** allowsPublicRepositories: off by default, as at GitHub (then public repositories' jobs never reach its runners). */
  createRunnerGroup(input: { org: string; name: string; allowsPublicRepositories?: boolean }): { id: number; name: string };
  /** The scale set a listener's create call makes, without auth. */
  createScaleSet(input: ScaleSetInput): SimScaleSet;
  /** The scale set's generatejitconfig, without auth. */
  createScaleSetRunner(scaleSetId: number, input: { name: string; workFolder?: string }): { runner: SimRunner; encodedJitConfig: string };
  scaleSets(): SimScaleSet[];
  /** Puts a hand-made job message (e.g. a type clients do not know yet) on a scale set's queue. */
  injectScaleSetMessage(scaleSetId: number, message: Record<string, unknown> & { messageType: string }): void;
  /** Changes the scale-set timers and rules of a running simulator (the flavour is fixed at start). */
  configureScaleSets(options: ScaleSetOptions): void;
  /** A fault: admin and/or queue tokens expire now; an open poll answers 401 at once. */
  expireScaleSetTokens(which: { admin?: boolean; queue?: boolean }): void;
  /** The Actions service's answers so far, oldest first (the last 1,000). */
  actionsRequests(): SimActionsRequest[];
  deliveries(): SimDelivery[];
  /** Resolves with the first delivery (past or future) that matches. */
  waitForDelivery(match: (d: SimDelivery) => boolean, timeoutMs?: number): Promise<SimDelivery>;
  ping(): Promise<void>;
  setWebhook(config: { url?: string; secret?: string }): void;
  webhook(): { url: string | undefined; secret: string };
  setFaults(faults: Faults): void;
  setRateLimits(limits: RateLimits): void;
  advanceClock(ms: number): void;
  /** The sim's current time (ms since epoch), wall clock plus every advance. */
  now(): number;
  violations(): ContractViolation[];
  close(): Promise<void>;
}
