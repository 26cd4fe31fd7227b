import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault, type RawRequestDefaultExpression, type RawReplyDefaultExpression } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from './errors.js';
import { authorize, type AdminToken, type AuthOutcome, type Scope } from './admin-auth.js';
import type { Readiness } from './readiness.js';
import type { Telemetry } from './telemetry.js';
import type { Logger } from './logging.js';
import { RUNNERHUB_VERSION } from './version.js';

export type HttpServer = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope the route needs; without one, GET and HEAD need `read`, everything else `write`. */
    scope?: Scope;
    /**
     * The route answers without a token. Only the chassis routes and the webhook intake say so: a
     * route that says nothing needs a token, whatever its path.
     */
    public?: boolean;
    /**
     * The route also accepts a browser session (HttpSettings.sessions: the web console's cookie)
     * instead of a bearer token; a write through a session needs its CSRF token too. Without this,
     * a cookie opens nothing: the /api routes take bearer tokens only.
     */
    session?: boolean;
  }
  interface FastifyRequest {
    /** The admin token this request was authorized with (bearer or session); null on public routes. */
    adminToken: AdminToken | null;
  }
  interface FastifyInstance {
    /**
     * Serves `method path` (exact path, no query string) from `handler` on the listening server, in
     * front of fastify (servers made by createHttpServer only). Only the socket path goes through it:
     * `inject()` and a URL with a query string reach the fastify route of the same path, which the
     * service registers too, so both must answer the same. That fastify route must be public: a
     * raw route skips the token check (the server refuses to start otherwise).
     */
    rawRoute(method: string, path: string, handler: RawHandler): void;
  }
}

export interface HttpSettings {
  service: string;
  version?: string;
  log: Logger;
  readiness: Readiness;
  telemetry: Telemetry;
  adminTokens: readonly AdminToken[];
  /** Browser sessions for routes that declare `config.session` (the web console). */
  sessions?: SessionAuth;
  /** Default 1 MiB. */
  bodyLimit?: number;
  /** How long a client may take to send a whole request, headers and body; then 408 and the connection is cut. Default 30 s. */
  requestTimeoutMs?: number;
}

/**
 * A hot route answered straight from Node's HTTP server, in front of fastify's routing, hooks and
 * reply machinery (≈15 µs per request). `answer` sends a JSON body; the chassis times and counts the
 * request as fastify's routes are counted, and refuses it with 503 while the server closes.
 */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, answer: RawAnswer) => void;
export type RawAnswer = (status: number, body: unknown) => void;

/** How a route with `config.session` checks a browser: libs/platform sessions.ts makes one. */
export interface SessionAuth {
  /** The session of the request's cookie, with the scope it needs (no CSRF check: the body is not read yet). */
  authorize(req: FastifyRequest, needed: Scope): AuthOutcome;
  /** Whether a write carries the session's CSRF token (form field `_csrf` or header `x-csrf-token`); after the body is parsed. */
  csrfValid(req: FastifyRequest): boolean;
  /** Answers a refused request on a session route (a browser gets a page that leads to the login form). */
  refuse(req: FastifyRequest, reply: FastifyReply, outcome: AuthOutcome & { ok: false }): FastifyReply;
}

interface RawRoute {
  method: string;
  handler: RawHandler;
}

/** A socket that sends nothing for this long is closed. */
const CONNECTION_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Node checks request timeouts only every connectionsCheckingInterval (30 s by default), so a slow
 * request would outlive its timeout by up to that much; check often enough that it does not.
 */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Routes of the chassis itself: public (no token) and not logged per request. */
const CHASSIS_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);
const PUBLIC = { public: true } as const;

/**
 * The HTTP chassis every service shares: liveness, readiness, metrics, the OpenAPI document, bearer
 * tokens on every route that is not declared public, and one error-to-HTTP mapper. Services add
 * their routes, then call `listen`.
 */
export async function createHttpServer(s: HttpSettings): Promise<HttpServer> {
  const rawRoutes = new Map<string, RawRoute>();
  /** `METHOD /url` of every fastify route → whether it is public. */
  const routes = new Map<string, boolean>();
  let closing = false;
  // Set once the histogram exists (below); raw routes are only served after listen().
  let serveRaw: (route: RawRoute, req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const requestTimeout = s.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    // Our own server, so that raw routes skip fastify; fastify sets no timeout on a server it did
    // not make, so every timeout is set here. Explicit timeouts: a slow client cannot hold a socket
    // for ever, and keep-alive outlives the 60 s idle timeout of common reverse proxies so they never
    // reuse a socket we already closed.
    serverFactory: (handler) => {
      // In the constructor, not as properties afterwards: Node's check swaps the two timeouts when
      // headersTimeout (60 s by default) is the longer one, so a 30 s requestTimeout set later cut
      // a slow body only after 60 s plus up to one 30 s checking interval.
      const server = createServer(
        {
          requestTimeout,
          headersTimeout: requestTimeout,
          connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, Math.max(10, Math.floor(requestTimeout / 10))),
          keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        },
        (req, res) => {
          // An exact match only; any other spelling of the path goes to fastify, whose route of the
          // same path is public (checked at ready), so no spelling skips a token check.
          const route = closing ? undefined : rawRoutes.get(req.url ?? '');
          if (route && route.method === req.method) serveRaw(route, req, res);
          else handler(req, res);
        },
      );
      server.setTimeout(CONNECTION_TIMEOUT_MS);
      return server;
    },
    loggerInstance: s.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: s.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Before swagger's own onRoute hook, so that the document shows what this one decides.
  app.addHook('onRoute', (route) => {
    const name = `${[route.method].flat().join(',')} ${route.url}`;
    // The chassis test finds the routes to try without a token in /openapi.json: none may hide.
    const schema = route.schema as { hide?: boolean; tags?: string[] } | undefined;
    if (schema?.hide || schema?.tags?.includes('X-HIDDEN')) throw new Error(`${name}: every route must appear in /openapi.json (no schema.hide)`);
    const isPublic = route.config?.public === true;
    if (isPublic && route.config?.scope) throw new Error(`${name}: a route is either public or needs a scope, not both`);
    if (route.config?.session && (isPublic || !s.sessions)) throw new Error(`${name}: a session route must not be public, and needs HttpSettings.sessions`);
    // OpenAPI's way to say "no token": an empty security list on the operation.
    if (isPublic) route.schema = { ...route.schema, security: [] };
    for (const method of [route.method].flat()) routes.set(`${method} ${route.url}`, isPublic);
  });
  app.addHook('onReady', async () => {
    for (const [path, raw] of rawRoutes) {
      if (routes.get(`${raw.method} ${path}`) !== true) {
        throw new Error(`rawRoute ${raw.method} ${path}: a raw route skips the token check, so the fastify route of the same method and path must exist and be public`);
      }
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: `RunnerHub ${s.service}`, version: s.version ?? RUNNERHUB_VERSION },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  const requestDuration = s.telemetry.meter.createHistogram('http_server_request_duration_seconds', {
    description: 'Duration of HTTP requests, by route, method and status.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  });

  app.decorate('rawRoute', (method: string, path: string, handler: RawHandler) => {
    rawRoutes.set(path, { method, handler });
  });
  // Fastify answers 503 to whatever reaches it from here on; raw routes hand new requests to it.
  app.addHook('preClose', async () => {
    closing = true;
  });
  serveRaw = (route, req, res) => {
    const started = performance.now();
    route.handler(req, res, (status, body) => {
      const json = JSON.stringify(body);
      // A request that was in flight when closing began is finished, then its connection is closed.
      if (closing) res.shouldKeepAlive = false;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) }).end(json);
      requestDuration.record((performance.now() - started) / 1000, { route: req.url ?? '', method: req.method ?? '', status: String(status) });
    });
  };

  // Decided on the route the router chose, never on the spelling of the URL: percent-encoding,
  // absolute-form targets and the like all end on a route (its config says what it needs) or on
  // the not-found handler, which runs nothing and answers 404.
  app.decorateRequest('adminToken', null);
  /** Requests authorized by a session cookie: their writes need the CSRF token (checked once the body is parsed). */
  const bySession = new WeakSet<FastifyRequest>();
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return;
    const { config } = req.routeOptions;
    if (config.public === true) return;
    const needed = config.scope ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
    // A session route takes the cookie only when no Authorization header is sent: a bearer token is
    // checked as on every other route, and never falls back to a cookie.
    const sessions = config.session === true && req.headers.authorization === undefined ? s.sessions : undefined;
    const outcome = sessions ? sessions.authorize(req, needed) : authorize(s.adminTokens, req.headers.authorization, needed);
    if (!outcome.ok) {
      if (config.session === true && s.sessions) return s.sessions.refuse(req, reply, outcome);
      return reply.code(outcome.status).send({ error: outcome.status === 401 ? 'unauthorized' : 'forbidden', message: outcome.message });
    }
    req.adminToken = outcome.token;
    if (sessions) bySession.add(req);
  });
  // Every request a cookie authorized, except GET and HEAD (which change nothing), carries the
  // session's CSRF token: another site's form can make the browser send the cookie, never the token.
  app.addHook('preValidation', async (req, reply) => {
    if (!bySession.has(req) || req.method === 'GET' || req.method === 'HEAD' || !s.sessions) return;
    if (!s.sessions.csrfValid(req)) return s.sessions.refuse(req, reply, { ok: false, status: 403, message: 'missing or wrong CSRF token: reload the page and try again' });
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    if (CHASSIS_ROUTES.has(route)) return;
    requestDuration.record(reply.elapsedTime / 1000, { route, method: req.method, status: String(reply.statusCode) });
    req.log.debug({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    if (err instanceof AppError) {
      if (err.status >= 500) req.log.warn({ err }, 'request failed');
      return reply.code(err.status).send({ error: err.kind, message: err.message, ...(err.details ? { details: err.details } : {}) });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.code(400).send({ error: 'bad_request', message: fe.message });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ error: errorWord(fe.statusCode), message: fe.message });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  app.get('/healthz', { config: PUBLIC, schema: { summary: 'Liveness: 200 while the process runs' } }, async () => ({ status: 'ok', version: s.version ?? RUNNERHUB_VERSION }));
  app.get('/readyz', { config: PUBLIC, schema: { summary: 'Readiness: 503 while starting, while a dependency is down, and from the start of shutdown' } }, async (_req, reply) => {
    const r = s.readiness.report();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
  app.get('/metrics', { config: PUBLIC, schema: { summary: 'Prometheus metrics' } }, (req, reply) => {
    reply.hijack();
    s.telemetry.serveMetrics(req.raw, reply.raw);
  });
  app.get('/openapi.json', { config: PUBLIC, schema: { summary: 'This document' } }, async () => app.swagger());

  return app;
}

function errorWord(status: number): string {
  switch (status) {
    case 400: return 'bad_request';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 405: return 'method_not_allowed';
    case 409: return 'conflict';
    case 413: return 'payload_too_large';
    case 415: return 'unsupported_media_type';
    case 422: return 'unprocessable';
    case 429: return 'too_many_requests';
    default: return 'client_error';
  }
}
