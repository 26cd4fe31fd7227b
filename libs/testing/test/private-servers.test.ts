import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startPostgresServer, startRedisServer, type OwnedServer } from '../src/index.js';
import { createConnection } from 'node:net';

// The fault tests stop these servers under the platform: each must come back on its port with its
// data (Postgres, after a clean stop and after kill -9) or empty (Redis).

const redisCommand = (port: number, command: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = createConnection(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
      socket.end();
    });
    socket.on('end', () => resolve(answer.trim()));
    socket.on('error', reject);
    socket.write(`${command}\r\n`);
  });

describe('servers a test owns', () => {
  const owned: OwnedServer[] = [];
  afterAll(async () => {
    for (const s of owned) await s.destroy();
  });

  it('a private Postgres keeps its data through a clean restart and a kill -9, and makes test databases', async () => {
    const server = await startPostgresServer();
    owned.push(server);
    const db = await createTestDatabase('owned', { adminUrl: server.url });
    const query = async (sql: string) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query<{ n: number }>(sql)).rows;
      } finally {
        await client.end();
      }
    };
    await query('CREATE TABLE t (n int); INSERT INTO t VALUES (1)');
    await server.restart();
    await server.kill();
    await expect(query('SELECT 1')).rejects.toThrow();
    await server.start();
    expect(await query('SELECT n FROM t')).toEqual([{ n: 1 }]);
    await db.drop();
  }, 120_000);

  it('a private Redis starts empty again', async () => {
    const server = await startRedisServer();
    owned.push(server);
    expect(await redisCommand(server.port, 'SET k v')).toBe('+OK');
    await server.kill();
    await server.start();
    expect(await redisCommand(server.port, 'GET k')).toBe('$-1');
  }, 60_000);
});
