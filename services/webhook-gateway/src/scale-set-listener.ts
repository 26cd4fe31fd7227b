import type { NatsConnection } from '@nats-io/transport-node';
import type { Meter } from '@opentelemetry/api';
import { PoolIntake, PoolScopeKind, type PoolDefinition, type SubjectMessages } from '@runnerhub/contracts';
import {
  orgInstallation,
  repoInstallation,
  ScaleSetClient,
  SessionConflictError,
  SessionNotFoundError,
  type GitHubClient,
  type MessageSession,
  type RunnerScope,
  type ScaleSetMessage,
  type ScaleSetStatistics,
} from '@runnerhub/github';
import { createLease, runWhileLeader, type LeaderLoop, type Logger, type Publisher } from '@runnerhub/platform';
import { startDeliverySpan } from './delivery-trace.js';
import { scaleSetJobs, type SkipReason } from './scale-set-jobs.js';

/**
 * The scale-set intake: for every pool with `intake: scaleset` or `both`, GitHub's runner scale set
 * of that name (in the pool's runner group) and one message session on it, held by one replica at a
 * time under a lease. Each message's job facts are published and their PubAcks awaited before the
 * message is acknowledged, so a crash at any point means the message comes again (its facts carry
 * the same Nats-Msg-Id and the scheduler's fold is idempotent) — never a job lost. Polls always ask
 * for the oldest unacknowledged message (lastMessageId 0), so a lost acknowledgement brings its
 * message straight back. The capacity announced is the pool's `max`: a stable total, never the
 * instantaneous gap, since a job that queues while a session announces 0 is never the scale set's
 * (contracts/scale-set.md "Zero is a trapdoor").
 */

/** Lease length: a killed listener's successor takes over after at most this; GitHub's ghost session (~1 min) lasts longer anyway. Persisted bucket name. */
const LEASE_BUCKET = 'rh-leases-15s';
const LEASE_TTL_MS = 15_000;
/** A non-leader tries for the lease this often. */
const LEASE_RETRY_MS = 3_000;
/** Back-off after a failed poll, acknowledgement or publish, and between session attempts: first wait. */
const RETRY_FIRST_MS = 1_000;

export type ListenerState = 'waiting_for_lease' | 'waiting_for_session' | 'polling' | 'retrying' | 'stopped';

export interface ListenerStatus {
  pool: string;
  state: ListenerState;
  scaleSetId: number | null;
  sessionId: string | null;
  /** 409s since this listener last asked for a session: a killed predecessor's ghost, or another listener. */
  sessionConflicts: number;
  announcedCapacity: number;
  messages: number;
  facts: number;
  lastMessageId: number | null;
  statistics: ScaleSetStatistics | null;
  lastError: string | null;
}

export interface ScaleSetIntakeDeps {
  gh: GitHubClient;
  nc: NatsConnection;
  publisher: Publisher<SubjectMessages>;
  meter: Meter;
  log: Logger;
  holderId: string;
  /** Longest wait between two session attempts (and after failures). */
  retryMaxMs: number;
  /** One long poll gives up after this long (GitHub answers an empty one after ~50 s). */
  pollTimeoutMs?: number;
}

export const servesScaleSet = (pool: PoolDefinition): boolean => pool.intake === PoolIntake.SCALE_SET || pool.intake === PoolIntake.BOTH;

/** Sleeps `ms` or until the signal aborts. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

function scaleSetMetrics(meter: Meter, statuses: () => ListenerStatus[]) {
  const counts = new Map<string, { attributes: Record<string, string>; value: number }>();
  const add = (name: string, attributes: Record<string, string>, n = 1) => {
    const key = `${name}\n${JSON.stringify(attributes)}`;
    const c = counts.get(key);
    if (c) c.value += n;
    else counts.set(key, { attributes: { metric: name, ...attributes }, value: n });
  };
  const observe = (metric: string) => (r: import('@opentelemetry/api').ObservableResult) => {
    for (const c of counts.values()) if (c.attributes.metric === metric) r.observe(c.value, Object.fromEntries(Object.entries(c.attributes).filter(([k]) => k !== 'metric')));
  };
  meter.createObservableCounter('runnerhub_scaleset_messages', { description: 'Scale-set queue messages acknowledged, by pool.' }).addCallback(observe('messages'));
  meter.createObservableCounter('runnerhub_scaleset_job_messages', { description: 'Job messages of the scale-set queue by pool, type and outcome (published, or why none was).' }).addCallback(observe('jobs'));
  meter.createObservableCounter('runnerhub_scaleset_session_conflicts', { description: 'Session creates GitHub answered 409 (another session, or a killed listener’s ghost), by pool.' }).addCallback(observe('conflicts'));
  meter.createObservableCounter('runnerhub_scaleset_failures', { description: 'Failed polls, acknowledgements and publishes of the scale-set listener, by pool and step (each is retried).' }).addCallback(observe('failures'));
  meter.createObservableGauge('runnerhub_scaleset_statistics', { description: "The scale set's statistics as GitHub last sent them, by pool and kind (e.g. totalAssignedJobs)." }).addCallback((r) => {
    for (const s of statuses()) for (const [kind, value] of Object.entries(s.statistics ?? {})) r.observe(value, { pool: s.pool, kind });
  });
  meter.createObservableGauge('runnerhub_scaleset_announced_capacity', { description: 'The capacity the listener announces to GitHub (X-ScaleSetMaxCapacity), by pool.' }).addCallback((r) => {
    for (const s of statuses()) if (s.state === 'polling') r.observe(s.announcedCapacity, { pool: s.pool });
  });
  return {
    message: (pool: string) => add('messages', { pool }),
    job: (pool: string, type: string, outcome: 'published' | 'duplicate' | SkipReason | 'invalid' | 'unknown') => add('jobs', { pool, type, outcome }),
    conflict: (pool: string) => add('conflicts', { pool }),
    failure: (pool: string, step: 'session' | 'poll' | 'handle' | 'publish' | 'ack' | 'acquire') => add('failures', { pool, step }),
  };
}

export interface ScaleSetIntake {
  /** Starts and stops listeners to match the pools (call on every change). */
  sync(pools: PoolDefinition[]): void;
  status(): ListenerStatus[];
  stop(): Promise<void>;
}

export function createScaleSetIntake(deps: ScaleSetIntakeDeps): ScaleSetIntake {
  const listeners = new Map<string, { loop: LeaderLoop; status: ListenerStatus; pool: PoolDefinition }>();
  const metrics = scaleSetMetrics(deps.meter, () => [...listeners.values()].map((l) => l.status));
  const jobs = scaleSetJobs(deps.gh);
  const clients = new Map<string, ScaleSetClient>();

  const scopeOf = async (pool: PoolDefinition): Promise<RunnerScope> => {
    const scope = pool.scope;
    if (scope?.kind === PoolScopeKind.REPOSITORY) {
      const [owner = '', repo = ''] = scope.repository.split('/');
      return { installationId: (await repoInstallation(deps.gh, owner, repo)).id, repository: scope.repository };
    }
    return { installationId: (await orgInstallation(deps.gh, scope?.organization ?? '')).id, org: scope?.organization ?? '' };
  };
  const clientFor = async (pool: PoolDefinition): Promise<ScaleSetClient> => {
    const key = pool.scope?.kind === PoolScopeKind.REPOSITORY ? `repo:${pool.scope.repository}` : `org:${pool.scope?.organization ?? ''}`;
    let client = clients.get(key);
    if (!client) clients.set(key, (client = new ScaleSetClient(deps.gh, await scopeOf(pool), { log: deps.log, pollTimeoutMs: deps.pollTimeoutMs })));
    return client;
  };

  /** Publishes a message's facts (PubAck awaited), acquires offered jobs; throws when any publish failed. */
  async function handle(name: string, status: ListenerStatus, session: MessageSession, message: ScaleSetMessage): Promise<void> {
    const receivedAt = new Date();
    const offered: number[] = [];
    const log = deps.log.child({ pool: name, scaleSetId: session.scaleSetId, messageId: message.messageId });
    for (const bad of message.invalid) {
      metrics.job(name, 'invalid', 'invalid');
      log.warn({ problems: bad.problems }, 'scale-set job message not understood; acknowledged without a fact');
    }
    for (const other of message.unknown) metrics.job(name, other.messageType, 'unknown');
    for (const job of message.jobs) {
      const resolution = await jobs.resolve(job, { scaleSetId: session.scaleSetId, messageId: message.messageId, receivedAt, raw: job });
      if (resolution.kind === 'skip') {
        metrics.job(name, job.type, resolution.reason);
        log.info({ jobGuid: job.jobId, type: job.type, reason: resolution.reason, detail: resolution.detail }, 'scale-set job message gives no fact');
      } else {
        const { fact } = resolution;
        const span = startDeliverySpan({ event: 'workflow_job', action: fact.message.delivery?.action ?? '', delivery: fact.message.delivery?.deliveryId ?? '', message: fact.message });
        try {
          const ack = await deps.publisher.publish(fact.subject, fact.message, { msgId: fact.msgId, traceContext: span.traceContext });
          span.end();
          metrics.job(name, job.type, ack.duplicate ? 'duplicate' : 'published');
          status.facts += 1;
          log.debug({ jobId: String(fact.jobId), type: job.type, subject: fact.subject, duplicate: ack.duplicate }, 'scale-set job fact published');
        } catch (error) {
          span.end((error as Error).message);
          metrics.failure(name, 'publish');
          throw error;
        }
      }
      if (job.type === 'JobAvailable' && job.runnerRequestId > 0) offered.push(job.runnerRequestId);
    }
    // GHES offers jobs and gives them to no runner until they are acquired; github.com assigns them.
    if (offered.length > 0) {
      try {
        const acquired = await session.acquireJobs(offered);
        log.info({ offered: offered.length, acquired: acquired.length }, 'offered scale-set jobs acquired');
      } catch (error) {
        metrics.failure(name, 'acquire');
        throw error;
      }
    }
  }

  /** Opens the scale set's session; a 409 (another session, or a killed listener's ghost) means wait and ask again, for as long as it takes. */
  async function openSession(name: string, status: ListenerStatus, client: ScaleSetClient, scaleSetId: number, signal: AbortSignal): Promise<MessageSession | undefined> {
    status.sessionConflicts = 0;
    let waitMs = RETRY_FIRST_MS;
    while (!signal.aborted) {
      status.state = 'waiting_for_session';
      try {
        const session = await client.createSession(scaleSetId, deps.holderId);
        if (status.sessionConflicts > 0) deps.log.info({ pool: name, scaleSetId, conflicts: status.sessionConflicts }, 'scale-set session opened after GitHub expired the previous one');
        return session;
      } catch (error) {
        if (!(error instanceof SessionConflictError)) throw error;
        metrics.conflict(name);
        status.sessionConflicts += 1;
        status.lastError = error.message;
        if (status.sessionConflicts === 1) {
          deps.log.warn({ pool: name, scaleSetId }, 'GitHub holds another session on the scale set (a listener killed without closing its session leaves one for about a minute); waiting until it expires');
        }
      }
      await pause(waitMs * (0.75 + Math.random() / 2), signal);
      waitMs = Math.min(deps.retryMaxMs, waitMs * 2);
    }
    return undefined;
  }

  /** The leader's work for one pool: until the lease is lost or the listener stops. */
  async function listen(name: string, status: ListenerStatus, signal: AbortSignal): Promise<void> {
    let waitMs = RETRY_FIRST_MS;
    const failed = (step: 'session' | 'poll' | 'handle' | 'ack', error: unknown) => {
      metrics.failure(name, step);
      status.state = 'retrying';
      status.lastError = (error as Error).message;
      deps.log.warn({ pool: name, step, err: (error as Error).message, retryInMs: waitMs }, 'scale-set listener step failed; retrying');
    };
    while (!signal.aborted) {
      let session: MessageSession | undefined;
      try {
        const pool = listeners.get(name)?.pool;
        if (!pool) return;
        const client = await clientFor(pool);
        const scaleSet = await client.ensureScaleSet({ name: pool.name, runnerGroup: pool.runnerGroup });
        status.scaleSetId = scaleSet.id;
        session = await openSession(name, status, client, scaleSet.id, signal);
      } catch (error) {
        if (signal.aborted) return;
        failed('session', error);
        await pause(waitMs, signal);
        waitMs = Math.min(deps.retryMaxMs, waitMs * 2);
        continue;
      }
      if (!session) return;
      status.sessionId = session.id;
      status.statistics = session.statistics ?? null;
      deps.log.info({ pool: name, scaleSetId: session.scaleSetId, sessionId: session.id }, 'scale-set session open; polling');
      try {
        while (!signal.aborted) {
          const pool = listeners.get(name)?.pool;
          if (!pool) break;
          status.state = 'polling';
          status.announcedCapacity = pool.maxRunners;
          let message: ScaleSetMessage | undefined;
          try {
            message = await session.getMessage(0, pool.maxRunners, signal);
          } catch (error) {
            if (signal.aborted) break;
            if (error instanceof SessionNotFoundError) {
              deps.log.warn({ pool: name, sessionId: session.id }, 'GitHub dropped the scale-set session; opening a new one');
              session = undefined;
              break;
            }
            failed('poll', error);
            await pause(waitMs, signal);
            waitMs = Math.min(deps.retryMaxMs, waitMs * 2);
            continue;
          }
          if (!message) continue;
          if (message.statistics) status.statistics = message.statistics;
          try {
            await handle(name, status, session, message);
          } catch (error) {
            // Not acknowledged: the next poll brings the same message back.
            if (signal.aborted) break;
            failed('handle', error);
            await pause(waitMs, signal);
            waitMs = Math.min(deps.retryMaxMs, waitMs * 2);
            continue;
          }
          try {
            await session.deleteMessage(message.messageId);
          } catch (error) {
            // Its facts are in JetStream; the message comes again and its facts are duplicates.
            failed('ack', error);
            continue;
          }
          metrics.message(name);
          status.messages += 1;
          status.lastMessageId = message.messageId;
          status.lastError = null;
          waitMs = RETRY_FIRST_MS;
        }
      } finally {
        status.sessionId = null;
        // A successor gets a session at once only if this one is closed; a killed process cannot.
        if (session) await session.close().catch((error: unknown) => deps.log.warn({ pool: name, err: (error as Error).message }, 'scale-set session not closed; GitHub expires it'));
      }
    }
  }

  const start = (pool: PoolDefinition): void => {
    const status: ListenerStatus = {
      pool: pool.name,
      state: 'waiting_for_lease',
      scaleSetId: null,
      sessionId: null,
      sessionConflicts: 0,
      announcedCapacity: 0,
      messages: 0,
      facts: 0,
      lastMessageId: null,
      statistics: null,
      lastError: null,
    };
    const lease = createLease({ nc: deps.nc, bucket: LEASE_BUCKET, key: `scale-set-${pool.name}`, ttlMs: LEASE_TTL_MS, holderId: deps.holderId, log: deps.log });
    const loop = runWhileLeader(
      lease,
      async (signal) => {
        await listen(pool.name, status, signal);
        status.state = 'waiting_for_lease';
      },
      { log: deps.log, retryMs: LEASE_RETRY_MS },
    );
    listeners.set(pool.name, { loop, status, pool });
    deps.log.info({ pool: pool.name }, 'scale-set listener started');
  };

  const stopOne = async (name: string): Promise<void> => {
    const listener = listeners.get(name);
    if (!listener) return;
    listeners.delete(name);
    await listener.loop.stop();
    listener.status.state = 'stopped';
    deps.log.info({ pool: name }, 'scale-set listener stopped');
  };

  return {
    sync(pools) {
      const wanted = new Map(pools.filter(servesScaleSet).map((p) => [p.name, p]));
      for (const [name, pool] of wanted) {
        const running = listeners.get(name);
        if (!running) start(pool);
        else running.pool = pool;
      }
      for (const name of listeners.keys()) if (!wanted.has(name)) void stopOne(name);
    },
    status: () => [...listeners.values()].map((l) => ({ ...l.status })),
    async stop() {
      await Promise.all([...listeners.keys()].map(stopOne));
    },
  };
}
