import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { DATABASE_URL } from '../src/infra.js';
import { startTcpProxy, type TcpProxy } from '../src/tcp-proxy.js';
import { waitFor } from '../src/wait-for.js';

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  // A cut surfaces as an 'error' event on an idle client; without a listener it would crash the run.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

describe('startTcpProxy in front of Postgres', () => {
  const target = new URL(DATABASE_URL);
  let proxy: TcpProxy | undefined;
  const clients: pg.Client[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await proxy?.close();
    proxy = undefined;
  });

  it('forwards queries, breaks the live connection on cut() and serves again after restore()', async () => {
    proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
    const url = proxy.rewriteUrl(DATABASE_URL);
    expect(new URL(url).port).toBe(String(proxy.port));

    const before = await connect(url);
    clients.push(before);
    expect((await before.query<{ n: number }>('SELECT 1 AS n')).rows[0]?.n).toBe(1);

    await proxy.cut();
    await expect(before.query('SELECT 1')).rejects.toThrow();
    await expect(connect(url)).rejects.toThrow(/ECONNREFUSED/);

    await proxy.restore();
    const after = await waitFor(() => connect(url), { what: 'a Postgres connection through the restored proxy' });
    clients.push(after);
    expect((await after.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db).toBe(target.pathname.slice(1));
    expect(proxy.port).toBe(Number(new URL(url).port));
  });

  it('refuses connections for good after close()', async () => {
    proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
    const url = proxy.rewriteUrl(DATABASE_URL);
    await proxy.close();
    await expect(connect(url)).rejects.toThrow(/ECONNREFUSED/);
  });
});
