import type pg from 'pg';

/** The gateway's own record of every verified delivery (table gateway.deliveries). */

/**
 * published: on JetStream; ignored: an event nobody consumes; failed: JetStream did not answer (503,
 * a redelivery will come); refused: verified, but it can never be published (a field out of bounds,
 * larger than NATS takes): answered 4xx, and the redelivery reconciler leaves it alone.
 */
export type Outcome = 'published' | 'ignored' | 'failed' | 'refused';

export interface DeliveryRow {
  guid: string;
  event: string;
  action: string;
  installationId: string | null;
  hookId: string | null;
  receivedAt: Date;
  outcome: Outcome;
  subject: string | null;
  streamSeq: string | null;
  attempts: number;
  lastError: string | null;
}

export interface DeliveryRecord {
  guid: string;
  event: string;
  action: string;
  installationId: bigint;
  hookId: string | undefined;
  receivedAt: Date;
  outcome: Outcome;
  subject?: string;
  streamSeq?: number;
  error?: string;
}

/** Outcomes a later attempt of the same GUID may replace (a redelivery after an outage, or after an upgrade that accepts it). */
const RETRYABLE = new Set<Outcome>(['failed', 'refused']);

const COLUMNS = `guid, event, action, installation_id AS "installationId", hook_id AS "hookId", received_at AS "receivedAt",
  outcome, subject, stream_seq AS "streamSeq", attempts, last_error AS "lastError"`;

export function deliveriesStore(pool: pg.Pool) {
  return {
    /**
     * One statement for a whole batch. A failed attempt never overwrites a success: a late 503 retry
     * must not undo 'published'. Rows of one GUID within a batch are folded first (Postgres refuses
     * to upsert the same key twice in one statement).
     */
    async recordBatch(records: readonly DeliveryRecord[]): Promise<void> {
      const byGuid = new Map<string, DeliveryRecord>();
      for (const r of records) {
        const prev = byGuid.get(r.guid);
        if (!prev || RETRYABLE.has(prev.outcome)) byGuid.set(r.guid, r);
      }
      const rows = [...byGuid.values()];
      if (rows.length === 0) return;
      await pool.query(
        `INSERT INTO deliveries (guid, event, action, installation_id, hook_id, received_at, outcome, subject, stream_seq, last_error)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::bigint[], $10::text[])
         ON CONFLICT (guid) DO UPDATE SET
           attempts = deliveries.attempts + 1,
           updated_at = now(),
           outcome = CASE WHEN deliveries.outcome IN ('failed', 'refused') THEN EXCLUDED.outcome ELSE deliveries.outcome END,
           subject = COALESCE(EXCLUDED.subject, deliveries.subject),
           stream_seq = COALESCE(EXCLUDED.stream_seq, deliveries.stream_seq),
           last_error = CASE WHEN EXCLUDED.outcome IN ('failed', 'refused') THEN EXCLUDED.last_error ELSE deliveries.last_error END`,
        [
          rows.map((r) => r.guid),
          rows.map((r) => r.event),
          rows.map((r) => r.action),
          rows.map((r) => (r.installationId === 0n ? null : r.installationId.toString())),
          rows.map((r) => r.hookId ?? null),
          rows.map((r) => r.receivedAt),
          rows.map((r) => r.outcome),
          rows.map((r) => r.subject ?? null),
          rows.map((r) => r.streamSeq ?? null),
          rows.map((r) => r.error ?? null),
        ],
      );
    },

    /** GUIDs published or ignored since `since`, newest first, to warm the in-memory dedup set (a failed or refused one is answered afresh). */
    async handledSince(since: Date, limit: number): Promise<string[]> {
      const { rows } = await pool.query<{ guid: string }>(
        `SELECT guid FROM deliveries WHERE received_at >= $1 AND outcome IN ('published', 'ignored') ORDER BY received_at DESC LIMIT $2`,
        [since, limit],
      );
      return rows.map((r) => r.guid);
    },

    async get(guid: string): Promise<DeliveryRow | undefined> {
      const { rows } = await pool.query<DeliveryRow>(`SELECT ${COLUMNS} FROM deliveries WHERE guid = $1`, [guid]);
      return rows[0];
    },

    async list(f: { event?: string; outcome?: Outcome; limit: number; before?: Date }): Promise<DeliveryRow[]> {
      const { rows } = await pool.query<DeliveryRow>(
        `SELECT ${COLUMNS} FROM deliveries
          WHERE ($1::text IS NULL OR event = $1) AND ($2::text IS NULL OR outcome = $2) AND ($3::timestamptz IS NULL OR received_at < $3)
          ORDER BY received_at DESC LIMIT $4`,
        [f.event ?? null, f.outcome ?? null, f.before ?? null, f.limit],
      );
      return rows;
    },
  };
}

export type DeliveriesStore = ReturnType<typeof deliveriesStore>;
