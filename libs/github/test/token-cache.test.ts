import { randomBytes } from 'node:crypto';
import { REDIS_URL } from '@runnerhub/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstallationTokens, type MintedToken } from '../src/index.js';

// The shared token cache against real Redis, one connection per simulated service. The mint
// function stands for GitHub's access_tokens call (the contract tests use the real one).

const run = `test:github-tokens:${randomBytes(4).toString('hex')}`;
let n = 0;
const connections: Redis[] = [];
let admin: Redis;

function service(): Redis {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  connections.push(connection);
  return connection;
}

/** A minting "GitHub" that counts and takes `delayMs` per token. */
function github(delayMs: number, lifetimeMs = 3_600_000) {
  const minted: string[] = [];
  const mint = async (): Promise<MintedToken> => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const token = `ghs_${minted.length}_${randomBytes(4).toString('hex')}`;
    minted.push(token);
    return { token, expiresAt: Date.now() + lifetimeMs };
  };
  return { minted, mint };
}

beforeAll(() => {
  admin = service();
});

afterAll(async () => {
  const keys = await admin.keys(`${run}:*`);
  if (keys.length > 0) await admin.del(...keys);
  await Promise.all(connections.map((c) => c.quit()));
});

describe('InstallationTokens', () => {
  it('mints one token for eight services asking at once', async () => {
    const prefix = `${run}:${++n}`;
    const gh = github(150);
    const services = Array.from({ length: 8 }, () => new InstallationTokens(service(), prefix, gh.mint));
    const tokens = await Promise.all(services.map((s) => s.get(42)));
    expect(gh.minted).toHaveLength(1);
    expect(new Set(tokens)).toEqual(new Set(gh.minted));
  });

  it('refreshes a token with less than five minutes left, once, while others keep using the old one', async () => {
    const prefix = `${run}:${++n}`;
    await admin.set(`${prefix}:token:42`, JSON.stringify({ token: 'ghs_old', expiresAt: Date.now() + 4 * 60_000 }), 'PX', 4 * 60_000);
    const gh = github(400);
    const refresher = new InstallationTokens(service(), prefix, gh.mint);
    const other = new InstallationTokens(service(), prefix, gh.mint);
    const refreshing = refresher.get(42);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    // Four minutes are plenty for this call: it does not wait for the refresh.
    expect(await other.get(42)).toBe('ghs_old');
    expect(Date.now() - started).toBeLessThan(300);
    expect(await refreshing).toBe(gh.minted[0]);
    expect(await other.get(42)).toBe(gh.minted[0]);
    expect(gh.minted).toHaveLength(1);
  });

  it('waits for the refresh when the old token has less than a minute left', async () => {
    const prefix = `${run}:${++n}`;
    await admin.set(`${prefix}:token:42`, JSON.stringify({ token: 'ghs_old', expiresAt: Date.now() + 30_000 }), 'PX', 30_000);
    const gh = github(200);
    const [a, b] = [new InstallationTokens(service(), prefix, gh.mint), new InstallationTokens(service(), prefix, gh.mint)];
    const [ta, tb] = await Promise.all([a.get(42), b.get(42)]);
    expect(ta).toBe(tb);
    expect(ta).not.toBe('ghs_old');
    expect(gh.minted).toHaveLength(1);
  });

  it('forgets a refused token, but not one another service already replaced', async () => {
    const prefix = `${run}:${++n}`;
    const gh = github(0);
    const tokens = new InstallationTokens(service(), prefix, gh.mint);
    const first = await tokens.get(42);
    await tokens.invalidate(42, 'ghs_some_other_token');
    expect(await tokens.get(42)).toBe(first);
    await tokens.invalidate(42, first);
    const second = await tokens.get(42);
    expect(second).not.toBe(first);
    expect(gh.minted).toEqual([first, second]);
  });

  it('mints itself when the lock holder died, once the lock runs out', async () => {
    const prefix = `${run}:${++n}`;
    await admin.set(`${prefix}:token:42:lock`, 'a-process-that-crashed', 'PX', 300);
    const gh = github(0);
    const started = Date.now();
    const token = await new InstallationTokens(service(), prefix, gh.mint).get(42);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(gh.minted).toEqual([token]);
  });

  it('passes a failed mint to the caller and frees the lock for the next one', async () => {
    const prefix = `${run}:${++n}`;
    let fail = true;
    const gh = github(0);
    const tokens = new InstallationTokens(service(), prefix, async () => {
      if (fail) throw new Error('GitHub said no');
      return gh.mint();
    });
    await expect(tokens.get(42)).rejects.toThrow('GitHub said no');
    fail = false;
    expect(await admin.exists(`${prefix}:token:42:lock`)).toBe(0);
    expect(await tokens.get(42)).toBe(gh.minted[0]);
  });
});
