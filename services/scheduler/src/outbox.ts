import { ROOT_CONTEXT } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { contractsCodec, type SubjectMessages } from '@runnerhub/contracts';
import type { Logger, Publisher } from '@runnerhub/platform';
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
  wake(): void;
  stop(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

const carrierGetter = {
  get: (c: Record<string, string>, k: string) => c[k],
  keys: (c: Record<string, string>) => Object.keys(c),
};

/** The job facts this relay carries (job.queued, job.unmatched, ...). */
export type JobFactSubject = Extract<keyof SubjectMessages, `job.${string}`>;

export function startOutboxRelay(pool: pg.Pool, publisher: Publisher<SubjectMessages>, log: Logger): OutboxRelay {
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let failing = false;

  const drainOnce = async (): Promise<number> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      if (!failing) log.warn({ err: (err as Error).message }, 'outbox relay cannot reach Postgres; facts stay in the outbox and are retried');
      failing = true;
      return 0;
    }
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; subject: string; msg_id: string; payload: Buffer; traceparent: string | null }>(
        'SELECT id, subject, msg_id, payload, traceparent FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [BATCH],
      );
      for (const r of rows) {
        const subject = r.subject as JobFactSubject;
        const message = contractsCodec.decode(subject, r.payload) as SubjectMessages[JobFactSubject];
        const traceContext = r.traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent: r.traceparent }, carrierGetter) : undefined;
        await publisher.publish(subject, message, { msgId: r.msg_id, ...(traceContext ? { traceContext } : {}) });
      }
      if (rows.length > 0) await client.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      await client.query('COMMIT');
      if (failing) log.info('outbox relay publishes again');
      failing = false;
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (!failing) log.warn({ err: (err as Error).message }, 'outbox relay cannot publish; facts stay in the outbox and are retried');
      failing = true;
      return 0;
    } finally {
      client.release();
    }
  };

  const run = () => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        while (!stopped && (await drainOnce()) === BATCH);
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
  };

  const timer = setInterval(run, POLL_MS);
  timer.unref();
  run();
  return {
    wake: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
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
