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
}

export type AccountType = 'Organization' | 'User';
export type PermissionLevel = 'read' | 'write';

export interface InstallationInput {
  account: string;
  type?: AccountType;
  /** Repository names (without owner). */
  repositories: string[];
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
}

export interface SimJob {
  id: number;
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
  rest?: RestFault[];
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
