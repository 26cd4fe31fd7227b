import type pg from 'pg';

/**
 * Hosts an operator drained (`drained_hosts`): placement skips them and the reconcile loop retires
 * their waiting runners; busy ones finish their job. Kept in the table so a restart keeps the drain;
 * read into memory because every pass and every placement asks.
 */
export async function openDrainedHosts(db: pg.Pool) {
  let hosts = new Set<string>();
  const load = async (): Promise<void> => {
    const { rows } = await db.query<{ host: string }>('SELECT host FROM drained_hosts');
    hosts = new Set(rows.map((r) => r.host));
  };
  await load();
  return {
    current: (): ReadonlySet<string> => hosts,
    async drain(host: string): Promise<void> {
      await db.query('INSERT INTO drained_hosts (host) VALUES ($1) ON CONFLICT DO NOTHING', [host]);
      await load();
    },
    async undrain(host: string): Promise<void> {
      await db.query('DELETE FROM drained_hosts WHERE host = $1', [host]);
      await load();
    },
  };
}

export type DrainedHosts = Awaited<ReturnType<typeof openDrainedHosts>>;
