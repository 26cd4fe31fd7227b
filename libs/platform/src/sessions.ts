import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorize, type AdminToken, type AuthOutcome, type Scope } from './admin-auth.js';
import type { SessionAuth } from './http.js';

/**
 * Browser sessions for the web console: a person exchanges an admin token for a random session id
 * in an HttpOnly, SameSite=Strict cookie, and every write carries the session's CSRF token as well
 * (synchronizer token: the page has it, another site cannot read it). A session keeps the token's
 * name and scope; it lives in this process only (a restart signs everyone out) and ends after
 * `ttlMs` or at logout. The token itself is kept so that the console can call the other services'
 * admin APIs as that person.
 */

export interface Session {
  id: string;
  csrf: string;
  token: AdminToken;
  expiresAt: number;
  /** Values a flow keeps between two requests of this session (the manifest flow's state). */
  values: Map<string, string>;
}

export interface SessionSettings {
  tokens: readonly AdminToken[];
  /** Cookie path: the console's prefix. */
  path: string;
  /** Where a refused browser is sent to sign in. */
  loginPath: string;
  /** Default 12 hours. */
  ttlMs?: number;
  /** Set the cookie's Secure attribute (behind HTTPS). */
  secure?: boolean;
  now?: () => number;
}

export interface Sessions extends SessionAuth {
  /** A session for the token typed into the login form, or why not. */
  login(presented: string): { ok: true; session: Session; cookie: string } | (AuthOutcome & { ok: false });
  /** The request's live session, if any. */
  of(req: FastifyRequest): Session | undefined;
  /** Ends the request's session; the Set-Cookie value that clears the cookie. */
  logout(req: FastifyRequest): string;
  /** Whether a session is still signed in (not logged out, not expired). */
  alive(session: Session): boolean;
  /** Live sessions (for tests and the service's own gauges). */
  count(): number;
}

export const SESSION_COOKIE = 'rh_console';
const DEFAULT_TTL_MS = 12 * 3_600_000;
const MAX_SESSIONS = 1_000;

const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export function createSessions(o: SessionSettings): Sessions {
  const sessions = new Map<string, Session>();
  const now = o.now ?? Date.now;
  const ttl = o.ttlMs ?? DEFAULT_TTL_MS;
  const cookieOptions = { httpOnly: true, sameSite: 'strict' as const, path: o.path, secure: o.secure ?? false };

  const of = (req: FastifyRequest): Session | undefined => {
    const id = parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (!id) return undefined;
    const found = sessions.get(id);
    if (!found) return undefined;
    if (found.expiresAt <= now()) {
      sessions.delete(id);
      return undefined;
    }
    return found;
  };

  return {
    login(presented) {
      const outcome = authorize(o.tokens, `Bearer ${presented.trim()}`, 'read');
      if (!outcome.ok) return outcome;
      for (const [id, s] of sessions) if (s.expiresAt <= now()) sessions.delete(id);
      // The oldest go first when a script signs in without end.
      while (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      const session: Session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), token: outcome.token, expiresAt: now() + ttl, values: new Map() };
      sessions.set(session.id, session);
      return { ok: true, session, cookie: stringifySetCookie({ name: SESSION_COOKIE, value: session.id, ...cookieOptions, maxAge: Math.floor(ttl / 1000) }) };
    },
    of,
    logout(req) {
      const found = of(req);
      if (found) sessions.delete(found.id);
      return stringifySetCookie({ name: SESSION_COOKIE, value: '', ...cookieOptions, maxAge: 0 });
    },
    count: () => sessions.size,
    alive: (session) => sessions.get(session.id) === session && session.expiresAt > now(),
    authorize(req: FastifyRequest, needed: Scope): AuthOutcome {
      const found = of(req);
      if (!found) return { ok: false, status: 401, message: 'not signed in (or the session ended): sign in with an admin token' };
      if (needed === 'write' && found.token.scope !== 'write') {
        return { ok: false, status: 403, message: `this needs a token with scope "write"; you signed in with "${found.token.name}", which has scope "read"` };
      }
      return { ok: true, token: found.token };
    },
    csrfValid(req: FastifyRequest): boolean {
      const found = of(req);
      if (!found) return false;
      const body = req.body as Record<string, unknown> | undefined;
      const sent = req.headers['x-csrf-token'] ?? (body && typeof body === 'object' ? body['_csrf'] : undefined);
      return typeof sent === 'string' && sent.length > 0 && same(sent, found.csrf);
    },
    refuse(req: FastifyRequest, reply: FastifyReply, outcome: AuthOutcome & { ok: false }): FastifyReply {
      const wantsHtml = (req.headers.accept ?? '').includes('text/html');
      if (!wantsHtml) return reply.code(outcome.status).send({ error: outcome.status === 401 ? 'unauthorized' : 'forbidden', message: outcome.message });
      const login = `${o.loginPath}?next=${encodeURIComponent(req.url.startsWith(o.path) && req.method === 'GET' ? req.url : o.path)}`;
      const text = escapeHtml(outcome.message);
      const body =
        outcome.status === 401
          ? `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta http-equiv="refresh" content="0;url=${escapeHtml(login)}"><title>Sign in</title><p>${text}. <a href="${escapeHtml(login)}">Sign in</a></p></html>`
          : `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Not allowed</title><h1>Not allowed</h1><p role="alert">${text}</p><p><a href="${escapeHtml(o.path)}">Back</a></p></html>`;
      return reply.code(outcome.status).type('text/html; charset=utf-8').send(body);
    },
  };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
