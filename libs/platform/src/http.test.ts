import { request as httpRequest, Agent } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { createHttpServer, type HttpServer } from './http.js';
import { createLogger } from './logging.js';
import { createReadiness, type Readiness } from './readiness.js';
import { startTelemetry, type Telemetry } from './telemetry.js';
import { parseAdminTokens } from './admin-auth.js';
import { AppError, notFound } from './errors.js';
import fc from 'fast-check';
import { answersWithoutToken, concretePath, rawHttpRequest, requestTargetSpellings } from '@runnerhub/testing';

const log = createLogger({ service: 't', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const READ = 'read-token-0123456789';
const WRITE = 'write-token-0123456789';

describe('HTTP chassis', () => {
  let app: HttpServer;
  let readiness: Readiness;
  let telemetry: Telemetry;
  let natsUp = true;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'chassis-test' });
    readiness = createReadiness(log, { intervalMs: 60_000 });
    readiness.addCheck('nats', async () => {
      if (!natsUp) throw new Error('connection refused');
    });
    app = await createHttpServer({ service: 'test', log, readiness, telemetry, adminTokens: parseAdminTokens(`r:read:${READ},w:write:${WRITE}`) });
    app.get('/api/things/:id', { schema: { params: Type.Object({ id: Type.Integer() }) } }, async (req) => {
      if (req.params.id === 404) throw notFound('thing 404 does not exist');
      if (req.params.id === 500) throw new Error('database password is hunter2');
      return { id: req.params.id };
    });
    app.post('/api/things', { schema: { body: Type.Object({ name: Type.String({ minLength: 1 }) }) } }, async (req) => ({ created: req.body.name }));
    app.post('/api/unavailable', async () => {
      throw new AppError('unavailable', 'NATS is not answering; try again');
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    readiness.close();
    await telemetry.shutdown();
  });

  it('is alive at once but not ready before start, ready after, 503 while a dependency is down and from shutdown', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    await readiness.refresh();
    const starting = await app.inject('/readyz');
    expect(starting.statusCode).toBe(503);
    expect(starting.json()).toMatchObject({ phase: 'starting' });
    readiness.markStarted();
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    natsUp = false;
    await readiness.refresh();
    const down = await app.inject('/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ checks: { nats: { ok: false, error: 'connection refused' } } });
    natsUp = true;
    await readiness.refresh();
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    readiness.markStopping();
    expect((await app.inject('/readyz')).statusCode).toBe(503);
  });

  it('requires a bearer token on /api and says what is missing', async () => {
    const none = await app.inject('/api/things/1');
    expect(none.statusCode).toBe(401);
    expect(none.json().message).toMatch(/Authorization: Bearer/);
    expect((await app.inject({ url: '/api/things/1', headers: { authorization: `Bearer ${READ}` } })).json()).toEqual({ id: 1 });
    const readOnWrite = await app.inject({ method: 'POST', url: '/api/things', headers: { authorization: `Bearer ${READ}` }, payload: { name: 'x' } });
    expect(readOnWrite.statusCode).toBe(403);
    expect(readOnWrite.json().message).toMatch(/scope "write"/);
    const ok = await app.inject({ method: 'POST', url: '/api/things', headers: { authorization: `Bearer ${WRITE}` }, payload: { name: 'x' } });
    expect(ok.json()).toEqual({ created: 'x' });
  });

  it('maps errors to clear 4xx bodies and hides internals on 5xx', async () => {
    const auth = { authorization: `Bearer ${WRITE}` };
    const invalid = await app.inject({ method: 'POST', url: '/api/things', headers: auth, payload: { name: '' } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ error: 'bad_request' });
    const badJson = await app.inject({ method: 'POST', url: '/api/things', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":' });
    expect(badJson.statusCode).toBe(400);
    const missing = await app.inject({ url: '/api/things/404', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', message: 'thing 404 does not exist' });
    const internal = await app.inject({ url: '/api/things/500', headers: auth });
    expect(internal.statusCode).toBe(500);
    expect(internal.body).not.toContain('hunter2');
    expect((await app.inject({ method: 'POST', url: '/api/unavailable', headers: auth })).statusCode).toBe(503);
    expect((await app.inject('/nope')).statusCode).toBe(404);
  });

  it('serves Prometheus metrics including request durations, and an OpenAPI document of the admin routes', async () => {
    await app.inject({ url: '/api/things/7', headers: { authorization: `Bearer ${READ}` } });
    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('http_server_request_duration_seconds_bucket');
    expect(metrics.body).toMatch(/route="\/api\/things\/:id"/);
    expect(metrics.body).toContain('process_resident_memory_bytes');
    const doc = (await app.inject('/openapi.json')).json<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/things/{id}', '/api/things', '/healthz', '/readyz', '/metrics', '/openapi.json']));
    // Every route is in the document; the public ones say so with an empty security list.
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    expect(doc.paths['/api/things/{id}']!.get!.security).toBeUndefined();
  });
});

describe('raw routes in front of fastify', () => {
  let app: HttpServer;
  let telemetry: Telemetry;
  let base: string;
  let release: () => void = () => undefined;
  const agent = new Agent({ keepAlive: true });
  const send = (path: string, body = '') =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { method: 'POST', agent, headers: { 'content-type': 'text/plain' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject).end(body);
    });

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'raw-test' });
    app = await createHttpServer({ service: 'raw', log, readiness: createReadiness(log, { intervalMs: 60_000 }), telemetry, adminTokens: [] });
    app.post('/echo', { config: { public: true } }, async (req) => ({ via: 'fastify', body: req.body }));
    app.rawRoute('POST', '/echo', (req, _res, answer) => {
      let text = '';
      req.setEncoding('utf8').on('data', (c: string) => (text += c));
      req.on('end', () => answer(201, { via: 'raw', body: text }));
    });
    app.post('/slow', { config: { public: true } }, async () => ({ via: 'fastify' }));
    app.rawRoute('POST', '/slow', (_req, _res, answer) => {
      release = () => answer(200, { via: 'raw', done: true });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    agent.destroy();
    await app.close();
    await telemetry.shutdown();
  });

  it('answers its exact path and method on the socket, leaves the rest to fastify, and counts both', async () => {
    expect(await send('/echo', 'hello')).toMatchObject({ status: 201, body: JSON.stringify({ via: 'raw', body: 'hello' }) });
    expect((await send('/echo', 'hello')).headers['content-type']).toBe('application/json; charset=utf-8');
    expect(await send('/echo?x=1', 'hello')).toMatchObject({ status: 200, body: JSON.stringify({ via: 'fastify', body: 'hello' }) });
    expect((await app.inject({ method: 'POST', url: '/echo', payload: 'hi', headers: { 'content-type': 'text/plain' } })).json()).toEqual({ via: 'fastify', body: 'hi' });
    expect((await send('/nothing')).status).toBe(404);
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/http_server_request_duration_seconds_count\{route="\/echo",method="POST",status="201"\} 2/);
    expect(metrics).toMatch(/http_server_request_duration_seconds_count\{route="\/echo",method="POST",status="200"\} [12]/);
  });

  it('finishes a request in flight when closing, on a connection it then closes', async () => {
    const inFlight = send('/slow');
    await new Promise((r) => setTimeout(r, 50));
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    await expect(send('/echo', 'late')).rejects.toThrow();
    release();
    const res = await inFlight;
    expect(res).toMatchObject({ status: 200, body: JSON.stringify({ via: 'raw', done: true }) });
    expect(res.headers.connection).toBe('close');
    await closing;
    expect(closed).toBe(true);
  });
});

describe('the token check, on the route the router chose', () => {
  let app: HttpServer;
  let telemetry: Telemetry;
  let port: number;
  /** Handler runs, by route: a request that gets no token past the check never moves these. */
  const reached = new Map<string, number>();
  const count = (route: string) => () => {
    reached.set(route, (reached.get(route) ?? 0) + 1);
    return { route };
  };
  const total = () => [...reached.values()].reduce((a, b) => a + b, 0);
  /** Every route that needs a token, as `METHOD template`; HEAD is fastify's own twin of each GET. */
  const guarded = ['GET /api/things/:id', 'HEAD /api/things/:id', 'POST /api/things', 'PUT /api/things/:id', 'DELETE /api/things/:id', 'GET /internal/state', 'POST /api/raw-looking'];
  const noToken = fc.constantFrom<Record<string, string>>({}, { authorization: 'Bearer not-a-token-0123456789' }, { authorization: 'Basic cjpyZWFk' }, { authorization: 'Bearer' }, { authorization: `bearer  ${READ.toUpperCase()}` });

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'scope-test' });
    app = await createHttpServer({ service: 'scope', log, readiness: createReadiness(log, { intervalMs: 60_000 }), telemetry, adminTokens: parseAdminTokens(`r:read:${READ},w:write:${WRITE}`) });
    app.get('/api/things/:id', count('GET /api/things/:id'));
    app.post('/api/things', count('POST /api/things'));
    app.put('/api/things/:id', { config: { scope: 'write' } }, count('PUT /api/things/:id'));
    app.delete('/api/things/:id', count('DELETE /api/things/:id'));
    // Outside /api and saying nothing about its scope: still needs a token.
    app.get('/internal/state', count('GET /internal/state'));
    app.post('/api/raw-looking', count('POST /api/raw-looking'));
    app.get('/open', { config: { public: true } }, async () => ({ open: true }));
    app.post('/hook', { config: { public: true } }, async () => ({ via: 'fastify' }));
    app.rawRoute('POST', '/hook', (req, _res, answer) => {
      req.resume();
      req.on('end', () => answer(200, { via: 'raw' }));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
    await telemetry.shutdown();
  });

  it('answers 401 on every guarded route without a token, runs the handler with one, and serves public routes to anyone', async () => {
    for (const route of guarded) {
      const [method, template] = route.split(' ') as [string, string];
      expect((await rawHttpRequest(port, method, concretePath(template, '7'))).status, route).toBe(401);
      expect((await app.inject({ method: method as 'GET', url: concretePath(template, '7') })).statusCode, route).toBe(401);
    }
    expect(total()).toBe(0);
    const withToken = await rawHttpRequest(port, 'POST', '/api/things', { authorization: `Bearer ${WRITE}` });
    expect(withToken.status).toBe(200);
    expect(reached.get('POST /api/things')).toBe(1);
    expect((await rawHttpRequest(port, 'GET', '/open')).status).toBe(200);
    expect((await rawHttpRequest(port, 'POST', '/hook')).status).toBe(200);
    expect((await rawHttpRequest(port, 'GET', '/api/nothing-here')).status).toBe(404);
    reached.clear();
  });

  it('never lets a request without a token reach a guarded handler, however the target is spelled (raw socket, absolute form too)', async () => {
    const authority = `127.0.0.1:${port}`;
    const request = fc.constantFrom(...guarded).chain((route) => {
      const [method, template] = route.split(' ') as [string, string];
      return fc.record({ method: fc.constant(method), target: requestTargetSpellings(concretePath(template, '7'), authority), headers: noToken });
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method, target, headers }) => {
        const before = total();
        const { status, head } = await rawHttpRequest(port, method, target, headers);
        expect(answersWithoutToken(target), `${method} ${target} → ${head}`).toContain(status);
        expect(total(), `${method} ${target} reached a handler`).toBe(before);
      }),
      { numRuns: 400 },
    );
    expect(total()).toBe(0);
  }, 60_000);

  it('does the same through inject, which normalises what it can', async () => {
    const request = fc.constantFrom(...guarded).chain((route) => {
      const [method, template] = route.split(' ') as [string, string];
      return fc.record({ method: fc.constant(method as 'GET'), url: requestTargetSpellings(concretePath(template, '7')), headers: noToken });
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method, url, headers }) => {
        const res = await app.inject({ method, url, headers });
        expect(answersWithoutToken(url), `${method} ${url} → ${res.statusCode} ${res.body}`).toContain(res.statusCode);
      }),
      { numRuns: 200 },
    );
    expect(total()).toBe(0);
  }, 60_000);

  it('refuses to start with a raw route whose fastify route is not public, and with a route hidden from the document', async () => {
    const quiet = () => createHttpServer({ service: 'bad', log, readiness: createReadiness(log, { intervalMs: 60_000 }), telemetry, adminTokens: [] });
    const raw = await quiet();
    raw.post('/api/fast', async () => ({}));
    raw.rawRoute('POST', '/api/fast', (_req, _res, answer) => answer(200, {}));
    await expect(raw.ready()).rejects.toThrow(/rawRoute POST \/api\/fast: .*must exist and be public/);
    const lonely = await quiet();
    lonely.rawRoute('POST', '/alone', (_req, _res, answer) => answer(200, {}));
    await expect(lonely.ready()).rejects.toThrow(/rawRoute POST \/alone/);
    const hidden = await quiet();
    expect(() => hidden.get('/secret', { schema: { hide: true } }, async () => ({}))).toThrow(/must appear in \/openapi.json/);
    expect(() => hidden.get('/both', { config: { public: true, scope: 'read' } }, async () => ({}))).toThrow(/either public or needs a scope/);
    await Promise.all([raw.close(), lonely.close(), hidden.close()]);
  });
});

describe('request timeout', () => {
  it('cuts a request whose body trickles in at the configured timeout, not a minute later', async () => {
    const telemetry = startTelemetry({ serviceName: 'timeout-test' });
    const app = await createHttpServer({ service: 'timeout', log, readiness: createReadiness(log, { intervalMs: 60_000 }), telemetry, adminTokens: [], requestTimeoutMs: 600 });
    app.post('/upload', { config: { public: true } }, async () => ({ ok: true }));
    app.post('/raw-upload', { config: { public: true } }, async () => ({ ok: true }));
    app.rawRoute('POST', '/raw-upload', (req, _res, answer) => {
      req.resume();
      req.on('end', () => answer(200, { ok: true }));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    // Both ways in: a fastify route and a raw one.
    for (const path of ['/upload', '/raw-upload']) {
      const started = performance.now();
      const answer = await new Promise<{ ms: number; text: string }>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\n`));
        // One byte every 50 ms: never idle long enough for the socket timeout, never finished.
        const drip = setInterval(() => socket.write('a'), 50);
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(drip);
          resolve({ ms: performance.now() - started, text });
        });
      });
      expect(answer.text).toMatch(/^HTTP\/1\.1 408/);
      expect(answer.ms).toBeGreaterThanOrEqual(600);
      // Node checks every tenth of the timeout here: well before its default 30 s interval or the 60 s headers timeout.
      expect(answer.ms, path).toBeLessThan(600 * 4);
    }
    await app.close();
    await telemetry.shutdown();
  }, 120_000);
});
