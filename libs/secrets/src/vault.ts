import vault from 'node-vault';
import type { SecretsLog } from './types.js';

/**
 * Reads one KV v2 secret (all keys of `<mount>/data/<path>`) with a token or an AppRole login.
 * The token is renewed at about two thirds of its TTL; when renewal is refused (max TTL reached,
 * revoked) we log in again with AppRole. Reads retry 5xx and network errors with backoff and jitter;
 * a 403 after the token expired under us gets one fresh login and one more try.
 */

export interface VaultSettings {
  addr: string;
  token?: string;
  roleId?: string;
  secretId?: string;
  mount: string;
  path: string;
  log: SecretsLog;
  /** Per-request timeout; a Vault that is slower than this counts as unavailable. */
  timeoutMs?: number;
}

export interface VaultSource {
  readAll(): Promise<Record<string, string>>;
  close(): void;
}

/** Bounded retries: a Vault down for longer than this fails start-up with a clear error. */
const READ_ATTEMPTS = 5;
const RETRY_BASE_MS = 200;
const RENEW_AT_FRACTION = 2 / 3;
/** When renewal fails and no AppRole is configured, try again this much later. */
const RENEW_RETRY_MS = 30_000;

interface VaultAuth {
  client_token: string;
  lease_duration: number;
  renewable: boolean;
}

function statusOf(err: unknown): number | undefined {
  const r = (err as { response?: { statusCode?: number } }).response;
  return r?.statusCode;
}

function describe(err: unknown): string {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return status ? `Vault answered ${status}: ${message}` : `Vault unreachable: ${message}`;
}

const transient = (err: unknown) => {
  const s = statusOf(err);
  return s === undefined || s >= 500;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function connectVault(s: VaultSettings): Promise<VaultSource> {
  const client = vault({ endpoint: s.addr, token: s.token, requestOptions: { timeout: s.timeoutMs ?? 5_000 } });
  let renewTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const useAppRole = Boolean(s.roleId && s.secretId);

  const withRetries = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!transient(err) || attempt >= READ_ATTEMPTS) throw new Error(`${what}: ${describe(err)}`, { cause: err });
        const delay = RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
        s.log.warn({ attempt, delayMs: Math.round(delay), error: describe(err) }, `${what} failed; retrying`);
        await sleep(delay);
      }
    }
  };

  const schedule = (ttlSeconds: number, renewable: boolean) => {
    clearTimeout(renewTimer);
    if (closed || ttlSeconds <= 0) return; // root-like tokens never expire
    const inMs = renewable || useAppRole ? ttlSeconds * 1000 * RENEW_AT_FRACTION : undefined;
    if (inMs === undefined) {
      s.log.warn({ ttlSeconds }, 'Vault token is not renewable and no AppRole is configured; it will expire');
      return;
    }
    renewTimer = setTimeout(() => void renew(renewable), inMs);
    renewTimer.unref();
  };

  const login = async () => {
    const res = (await withRetries('Vault AppRole login', () => client.approleLogin({ role_id: s.roleId, secret_id: s.secretId }))) as { auth: VaultAuth };
    client.token = res.auth.client_token;
    s.log.info({ ttlSeconds: res.auth.lease_duration }, 'logged in to Vault with AppRole');
    schedule(res.auth.lease_duration, res.auth.renewable);
  };

  const renew = async (renewable: boolean) => {
    if (closed) return;
    try {
      if (!renewable) throw new Error('token is not renewable');
      const res = (await client.tokenRenewSelf({})) as { auth: VaultAuth; warnings?: string[] };
      // Vault caps renewal at the token's max TTL and says so in a warning; the next renewal fails,
      // so the schedule below leads to a fresh login in time.
      schedule(res.auth.lease_duration, res.auth.renewable);
      s.log.debug({ ttlSeconds: res.auth.lease_duration }, 'Vault token renewed');
    } catch (err) {
      if (useAppRole) {
        s.log.info({ error: describe(err) }, 'Vault token renewal refused; logging in again');
        await login().catch((e: unknown) => {
          s.log.error({ error: describe(e) }, 'Vault login failed; will retry');
          renewTimer = setTimeout(() => void renew(false), RENEW_RETRY_MS);
          renewTimer.unref();
        });
      } else {
        s.log.error({ error: describe(err) }, 'Vault token renewal failed; reads will fail once it expires');
        renewTimer = setTimeout(() => void renew(renewable), RENEW_RETRY_MS);
        renewTimer.unref();
      }
    }
  };

  if (useAppRole) {
    await login();
  } else if (s.token) {
    const self = (await withRetries('Vault token lookup', () => client.tokenLookupSelf())) as { data: { ttl: number; renewable: boolean } };
    schedule(self.data.ttl, self.data.renewable);
  } else {
    throw new Error('VAULT_ADDR is set but neither VAULT_TOKEN nor VAULT_ROLE_ID and VAULT_SECRET_ID are');
  }

  const readOnce = async () => {
    const res = (await client.read(`${s.mount}/data/${s.path}`)) as { data: { data: Record<string, unknown> | null } };
    const data = res.data.data ?? {};
    return Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string'));
  };

  return {
    async readAll() {
      const path = `${s.mount}/data/${s.path}`;
      try {
        return await withRetries(`reading ${path} from Vault`, readOnce);
      } catch (err) {
        const status = statusOf((err as Error).cause);
        if (status === 404) return {};
        if (status === 403 && useAppRole) {
          await login();
          return withRetries(`reading ${path} from Vault`, readOnce);
        }
        throw err;
      }
    },
    close() {
      closed = true;
      clearTimeout(renewTimer);
    },
  };
}
