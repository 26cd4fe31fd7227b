import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens for the admin API. Each token has a scope: `read` may call GET routes, `write` may
 * call everything. Tokens come from the ADMIN_TOKENS secret as `name:scope:token`, comma-separated.
 */

export type Scope = 'read' | 'write';

export interface AdminToken {
  name: string;
  scope: Scope;
  token: string;
}

/** Shorter tokens are guessable; the error tells the operator how to make a good one. */
const MIN_TOKEN_LENGTH = 16;

export function parseAdminTokens(raw: string | undefined): AdminToken[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const [name, scope, ...rest] = entry.split(':');
      const token = rest.join(':');
      if (!name || (scope !== 'read' && scope !== 'write') || !token) {
        throw new Error(`ADMIN_TOKENS entry ${i + 1} must be name:read|write:token`);
      }
      if (token.length < MIN_TOKEN_LENGTH) {
        throw new Error(`ADMIN_TOKENS entry "${name}" is shorter than ${MIN_TOKEN_LENGTH} characters; generate one with: openssl rand -hex 32`);
      }
      return { name, scope, token };
    });
}

export type AuthOutcome =
  | { ok: true; token: AdminToken }
  | { ok: false; status: 401 | 403; message: string };

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time lookup: every known token is compared, and hashing hides length differences. */
export function authorize(tokens: readonly AdminToken[], header: string | undefined, needed: Scope): AuthOutcome {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) {
    return { ok: false, status: 401, message: 'missing bearer token: send "Authorization: Bearer <token>" with a token from ADMIN_TOKENS' };
  }
  const presented = digest(match[1]);
  let found: AdminToken | undefined;
  for (const t of tokens) if (timingSafeEqual(presented, digest(t.token)) && !found) found = t;
  if (!found) return { ok: false, status: 401, message: 'bearer token not recognised' };
  if (needed === 'write' && found.scope !== 'write') {
    return { ok: false, status: 403, message: `this route needs a token with scope "write"; token "${found.name}" has scope "read"` };
  }
  return { ok: true, token: found };
}

/** Every service reads its admin tokens from this secret (env, file, or Vault like any other). */
export const adminTokensSecret = {
  name: 'ADMIN_TOKENS',
  required: false,
  description: 'Admin API bearer tokens as name:read|write:token, comma-separated. Unset: every /api route answers 401.',
} as const;
