import type pg from 'pg';

/** The gateway's own record of every verified delivery (table gateway.deliveries). */

export type Outcome = 'published' | 'ignored' | 'failed';

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

const COLUMNS = `guid, event, action, installation_id AS "installationId", hook_id AS "hookId", received_at AS "receivedAt",
  outcome, subject, stream_seq AS "streamSeq", attempts, last_error AS "lastError"`;

export function deliveriesStore(pool: pg.Pool) {
  return {
    /** True when this GUID was already handed to JetStream (or deliberately ignored): a replay. */
    async alreadyHandled(guid: string): Promise<boolean> {
      const { rows } = await pool.query<{ outcome: Outcome }>('SELECT outcome FROM deliveries WHERE guid = $1', [guid]);
      return rows[0] !== undefined && rows[0].outcome !== 'failed';
    },

    /** A failed attempt never overwrites a success: a late 503 retry must not undo 'published'. */
    async record(r: DeliveryRecord): Promise<void> {
      await pool.query(
        `INSERT INTO deliveries (guid, event, action, installation_id, hook_id, received_at, outcome, subject, stream_seq, last_error)
         VALUES ($1, $2, $3, NULLIF($4::bigint, 0), $5, $6, $7, $8, $9, $10)
         ON CONFLICT (guid) DO UPDATE SET
           attempts = deliveries.attempts + 1,
           updated_at = now(),
           outcome = CASE WHEN deliveries.outcome = 'failed' THEN EXCLUDED.outcome ELSE deliveries.outcome END,
           subject = COALESCE(EXCLUDED.subject, deliveries.subject),
           stream_seq = COALESCE(EXCLUDED.stream_seq, deliveries.stream_seq),
           last_error = CASE WHEN EXCLUDED.outcome = 'failed' THEN EXCLUDED.last_error ELSE deliveries.last_error END`,
        [r.guid, r.event, r.action, r.installationId.toString(), r.hookId ?? null, r.receivedAt, r.outcome, r.subject ?? null, r.streamSeq ?? null, r.error ?? null],
      );
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
