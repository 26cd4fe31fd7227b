import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHttpServer, type HttpServer } from './http.js';
import { createLogger } from './logging.js';
import { createReadiness, type Readiness } from './readiness.js';
import { startTelemetry, type Telemetry } from './telemetry.js';
import { parseAdminTokens } from './admin-auth.js';
import { createSessions, SESSION_COOKIE, type Sessions } from './sessions.js';

const log = createLogger({ service: 't', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const READ = 'read-token-0123456789';
const WRITE = 'write-token-0123456789';

describe('console sessions on the chassis', () => {
  let app: HttpServer;
  let readiness: Readiness;
  let telemetry: Telemetry;
  let sessions: Sessions;
  let clock = 1_000_000;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'sessions-test' });
    readiness = createReadiness(log, { intervalMs: 60_000 });
    const adminTokens = parseAdminTokens(`r:read:${READ},w:write:${WRITE}`);
    sessions = createSessions({ tokens: adminTokens, path: '/console', loginPath: '/console/login', ttlMs: 60_000, now: () => clock });
    app = await createHttpServer({ service: 'test', log, readiness, telemetry, adminTokens, sessions });
    app.get('/console/page', { config: { session: true } }, async (req) => ({ who: req.adminToken?.name }));
    app.post('/console/act', { config: { session: true } }, async (req) => ({ did: req.adminToken?.name }));
    app.post('/api/act', async (req) => ({ did: req.adminToken?.name }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    readiness.close();
    await telemetry.shutdown();
  });

  const signIn = (token: string) => {
    const result = sessions.login(token);
    if (!result.ok) throw new Error(result.message);
    return { cookie: `${SESSION_COOKIE}=${result.session.id}`, csrf: result.session.csrf, setCookie: result.cookie };
  };

  it('sets an HttpOnly, SameSite=Strict cookie scoped to the console, and refuses unknown tokens', () => {
    const { setCookie } = signIn(WRITE);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/console/);
    expect(sessions.login('not-a-token-0123456789')).toMatchObject({ ok: false, status: 401 });
  });

  it('lets a session read, and write only with its CSRF token and a write token', async () => {
    const w = signIn(WRITE);
    expect((await app.inject({ url: '/console/page', headers: { cookie: w.cookie } })).json()).toEqual({ who: 'w' });
    expect((await app.inject({ method: 'POST', url: '/console/act', headers: { cookie: w.cookie }, payload: {} })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/console/act', headers: { cookie: w.cookie }, payload: { _csrf: 'forged' } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/console/act', headers: { cookie: w.cookie }, payload: { _csrf: w.csrf } })).json()).toEqual({ did: 'w' });
    expect((await app.inject({ method: 'POST', url: '/console/act', headers: { cookie: w.cookie, 'x-csrf-token': w.csrf } })).json()).toEqual({ did: 'w' });
    // Another session's CSRF token is no good.
    const other = signIn(WRITE);
    expect((await app.inject({ method: 'POST', url: '/console/act', headers: { cookie: w.cookie, 'x-csrf-token': other.csrf } })).statusCode).toBe(403);
    const r = signIn(READ);
    const refused = await app.inject({ method: 'POST', url: '/console/act', headers: { cookie: r.cookie, 'x-csrf-token': r.csrf } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ message: string }>().message).toMatch(/scope "read"/);
  });

  it('never lets a cookie open an /api route, and a wrong bearer never falls back to the cookie', async () => {
    const w = signIn(WRITE);
    expect((await app.inject({ method: 'POST', url: '/api/act', headers: { cookie: w.cookie, 'x-csrf-token': w.csrf } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/console/page', headers: { cookie: w.cookie, authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(401);
  });

  it('sends a browser without a session to the login page, and ends sessions at logout and after their time', async () => {
    const page = await app.inject({ url: '/console/page', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(401);
    expect(page.body).toContain('/console/login?next=%2Fconsole%2Fpage');
    const w = signIn(WRITE);
    const req = { headers: { cookie: w.cookie } } as never;
    sessions.logout(req);
    expect((await app.inject({ url: '/console/page', headers: { cookie: w.cookie } })).statusCode).toBe(401);
    const later = signIn(WRITE);
    clock += 60_001;
    expect((await app.inject({ url: '/console/page', headers: { cookie: later.cookie } })).statusCode).toBe(401);
  });

  it('refuses any cookie value that is not a live session id', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }).filter((s) => !/[;\r\n]/.test(s)), async (id) => {
        const answer = await app.inject({ url: '/console/page', headers: { cookie: `${SESSION_COOKIE}=${id}` } });
        expect(answer.statusCode).toBe(401);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a session route on a server without sessions', async () => {
    const bare = await createHttpServer({ service: 'bare', log, readiness, telemetry, adminTokens: [] });
    expect(() => bare.get('/console/x', { config: { session: true } }, async () => ({}))).toThrow(/session route/);
    await bare.close();
  });
});
