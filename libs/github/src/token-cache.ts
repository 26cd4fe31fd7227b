import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from './backoff.js';

/**
 * Installation tokens shared by every service through Redis. A token is refreshed when less than
 * REFRESH_MARGIN_MS of its hour is left; one process mints while the others wait for its result
 * (a short Redis lock), so N services do not mint N tokens. Tokens stay in Redis for at most their
 * lifetime; Redis is internal to the deployment (docs/security.md).
 */

export interface MintedToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

const REFRESH_MARGIN_MS = 5 * 60_000;
const LOCK_MS = 15_000;
const WAIT_STEP_MS = 100;

export class InstallationTokens {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly mint: (installationId: number) => Promise<MintedToken>,
  ) {}

  private key(installationId: number): string {
    return `${this.prefix}:token:${installationId}`;
  }

  private async cached(installationId: number): Promise<MintedToken | undefined> {
    const raw = await this.redis.get(this.key(installationId));
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as MintedToken;
    return parsed.expiresAt - Date.now() > REFRESH_MARGIN_MS ? parsed : undefined;
  }

  async get(installationId: number): Promise<string> {
    const fresh = await this.cached(installationId);
    if (fresh) return fresh.token;
    const lockKey = `${this.key(installationId)}:lock`;
    const owner = randomUUID();
    const deadline = Date.now() + LOCK_MS;
    while (Date.now() < deadline) {
      if ((await this.redis.set(lockKey, owner, 'PX', LOCK_MS, 'NX')) === 'OK') {
        try {
          const again = await this.cached(installationId);
          if (again) return again.token;
          const minted = await this.mint(installationId);
          const ttl = minted.expiresAt - Date.now();
          if (ttl > 0) await this.redis.set(this.key(installationId), JSON.stringify(minted), 'PX', ttl);
          return minted.token;
        } finally {
          // Only our own lock: it may have expired and been taken by another process meanwhile.
          await this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lockKey, owner);
        }
      }
      await sleep(WAIT_STEP_MS);
      const minted = await this.cached(installationId);
      if (minted) return minted.token;
    }
    // The minting process died holding the lock: mint ourselves rather than fail the call.
    return (await this.mint(installationId)).token;
  }

  /** After a 401: forget the token, unless another process already replaced it. */
  async invalidate(installationId: number, token: string): Promise<void> {
    await this.redis.eval(
      "local v = redis.call('GET', KEYS[1]) if v and string.find(v, ARGV[1], 1, true) then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      this.key(installationId),
      `"token":"${token}"`,
    );
  }
}
