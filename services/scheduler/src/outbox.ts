import { ROOT_CONTEXT } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { contractsCodec, decodeMessage, jobSubjects, type SubjectMessages } from '@runnerhub/contracts';
import { startLoop, withTransaction, type Logger, type Publisher } from '@runnerhub/platform';
import type pg from 'pg';

/**
 * Publishes the job facts that state changes wrote to `outbox`, oldest first, and deletes each
 * only after its PubAck. Two replicas may run it: SKIP LOCKED splits the rows between them, and the
 * deterministic msg_id makes JetStream drop a publish that a crash caused to happen twice.
 */

/** A fact waits at most this long when a wake-up was missed (another replica wrote it). */
const POLL_MS = 1_000;
const BATCH = 100;

export interface OutboxRelay {
  readonly wake: () => void;
  readonly stop: () => Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

const carrierGetter = {
  get: (c: Record<string, string>, k: string) => c[k],
  keys: (c: Record<string, string>) => Object.keys(c),
};

/** The job facts this relay carries (job.queued, job.unmatched, ...). */
export type JobFactSubject = Extract<keyof SubjectMessages, `job.${string}`>;

const JOB_FACT_SUBJECTS: ReadonlySet<string> = new Set(Object.values(jobSubjects));
const isJobFactSubject = (subject: string): subject is JobFactSubject => JOB_FACT_SUBJECTS.has(subject);

export function startOutboxRelay(pool: pg.Pool, publisher: Publisher<SubjectMessages>, log: Logger): OutboxRelay {
  /** One batch in one transaction: the rows stay locked (and in the outbox) until their PubAcks. */
  const drainOnce = (): Promise<number> =>
    withTransaction(pool, async (client) => {
      const { rows } = await client.query<{ id: string; subject: string; msg_id: string; payload: Buffer; traceparent: string | null }>(
        'SELECT id, subject, msg_id, payload, traceparent FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [BATCH],
      );
      for (const r of rows) {
        // Only enqueueFact writes rows, with a job fact's subject; anything else is a bug to stop at.
        if (!isJobFactSubject(r.subject)) throw new Error(`outbox row ${r.id} has subject ${r.subject}, not a job fact`);
        const message = decodeMessage(r.subject, r.payload);
        const traceContext = r.traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent: r.traceparent }, carrierGetter) : undefined;
        await publisher.publish(r.subject, message, { msgId: r.msg_id, ...(traceContext ? { traceContext } : {}) });
      }
      if (rows.length > 0) await client.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      return rows.length;
    });

  return startLoop({
    name: 'scheduler.outbox-relay',
    intervalMs: POLL_MS,
    log,
    failureMessage: 'outbox relay cannot reach Postgres or cannot publish; facts stay in the outbox and are retried',
    run: async (signal) => {
      while (!signal.aborted && (await drainOnce()) === BATCH);
    },
  });
}

/** Writes one fact into the outbox inside the caller's transaction. */
export async function enqueueFact<S extends JobFactSubject>(
  client: pg.PoolClient,
  subject: S,
  message: SubjectMessages[S],
  msgId: string,
  traceparent: string | undefined,
): Promise<void> {
  const { data } = contractsCodec.encode(subject, message);
  await client.query('INSERT INTO outbox (subject, msg_id, payload, traceparent) VALUES ($1, $2, $3, $4)', [subject, msgId, Buffer.from(data), traceparent ?? null]);
}
