import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from '../retry.js';

/**
 * Installation tokens shared by every service through Redis, so N services hold one token per
 * installation instead of N. A token is refreshed when less than REFRESH_MARGIN_MS of its hour is
 * left; one process mints under a short Redis lock (SET NX PX) while the others keep using the old
 * token if it still has a minute, or wait for the new one. Tokens stay in Redis no longer than they
 * live; Redis is internal to the deployment (docs/security.md).
 */

export interface MintedToken {
  token: string;
  /** Epoch ms, in our clock. */
  expiresAt: number;
}

/** Refresh ahead: a call that starts with 5 minutes left must not outlive its token. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** While another process refreshes, a token with at least this much left is still good enough. */
const USABLE_MARGIN_MS = 60_000;
/** Longer than a mint normally takes; if the minter died, the lock frees itself after this. */
const LOCK_MS = 15_000;
const WAIT_STEP_MS = 50;

const RELEASE_OWN_LOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const DELETE_IF_TOKEN = "local v = redis.call('GET', KEYS[1]) if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export class InstallationTokens {
  /** The last token this process read or minted per installation: most calls need no Redis read. */
  private readonly known = new Map<number, MintedToken>();

  constructor(
    private readonly redis: Redis,
    /** e.g. `runnerhub:github:<appId>`. */
    private readonly prefix: string,
    private readonly mint: (installationId: number) => Promise<MintedToken>,
  ) {}

  private key(installationId: number): string {
    return `${this.prefix}:token:${installationId}`;
  }

  private async read(installationId: number): Promise<MintedToken | undefined> {
    const raw = await this.redis.get(this.key(installationId));
    const token = raw ? (JSON.parse(raw) as MintedToken) : undefined;
    if (token) this.known.set(installationId, token);
    return token;
  }

  private async store(installationId: number, minted: MintedToken): Promise<void> {
    this.known.set(installationId, minted);
    const ttl = minted.expiresAt - Date.now();
    if (ttl > 0) await this.redis.set(this.key(installationId), JSON.stringify(minted), 'PX', ttl);
  }

  /** A token with more than REFRESH_MARGIN_MS left (or, while another process refreshes, one with a minute). */
  async get(installationId: number): Promise<string> {
    // Another process may have replaced it meanwhile; this one stays valid until GitHub says 401.
    const known = this.known.get(installationId);
    if (known && known.expiresAt - Date.now() > REFRESH_MARGIN_MS) return known.token;
    const cached = await this.read(installationId);
    if (cached && cached.expiresAt - Date.now() > REFRESH_MARGIN_MS) return cached.token;
    const lockKey = `${this.key(installationId)}:lock`;
    const owner = randomUUID();
    const deadline = Date.now() + LOCK_MS;
    while (Date.now() < deadline) {
      if ((await this.redis.set(lockKey, owner, 'PX', LOCK_MS, 'NX')) === 'OK') {
        try {
          const again = await this.read(installationId);
          if (again && again.expiresAt - Date.now() > REFRESH_MARGIN_MS) return again.token;
          const minted = await this.mint(installationId);
          await this.store(installationId, minted);
          return minted.token;
        } finally {
          // Only our own lock: it may have expired and been taken by another process meanwhile.
          await this.redis.eval(RELEASE_OWN_LOCK, 1, lockKey, owner);
        }
      }
      const current = await this.read(installationId);
      if (current && current.expiresAt - Date.now() > USABLE_MARGIN_MS) return current.token;
      await sleep(WAIT_STEP_MS);
    }
    // The lock outlived LOCK_MS, so its holder is gone or stuck: mint ourselves rather than fail the call.
    const minted = await this.mint(installationId);
    await this.store(installationId, minted);
    return minted.token;
  }

  /** After GitHub refused `token` (401): forget it, unless another process already replaced it. */
  async invalidate(installationId: number, token: string): Promise<void> {
    if (this.known.get(installationId)?.token === token) this.known.delete(installationId);
    await this.redis.eval(DELETE_IF_TOKEN, 1, this.key(installationId), token);
  }
}
