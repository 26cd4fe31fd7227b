import { request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { createHttpServer, type HttpServer } from './http.js';
import { createLogger } from './logging.js';
import { createReadiness, type Readiness } from './readiness.js';
import { startTelemetry, type Telemetry } from './telemetry.js';
import { parseAdminTokens } from './admin-auth.js';
import { AppError, notFound } from './errors.js';

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
    const doc = (await app.inject('/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/things/{id}', '/api/things']));
    expect(Object.keys(doc.paths)).not.toContain('/healthz');
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
    app.post('/echo', async (req) => ({ via: 'fastify', body: req.body }));
    app.rawRoute('POST', '/echo', (req, _res, answer) => {
      let text = '';
      req.setEncoding('utf8').on('data', (c: string) => (text += c));
      req.on('end', () => answer(201, { via: 'raw', body: text }));
    });
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
