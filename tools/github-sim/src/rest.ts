import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContractViolation, RestFault } from './api.js';
import { verifyAppJwt, type AppIdentity } from './app-jwt.js';
import type { SimClock } from './clock.js';
import type { Contract } from './contract.js';
import { GitHubHttpError, badCredentials } from './errors.js';
import { headersOf, type RateLimiter } from './rate-limits.js';
import type { Installation, World } from './world.js';
import type { PermissionLevel } from './api.js';

/**
 * The REST pipeline every GitHub route goes through, in GitHub's order: injected faults, the
 * OpenAPI request check, authentication (App JWT or installation token), the primary rate limit,
 * the permission check, the handler, and the OpenAPI response check on the way out.
 */

export type Auth = 'jwt' | 'installation' | 'any' | 'none';

export interface RestContext {
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  /** Set for installation-token routes. */
  installation: Installation | undefined;
  permissions: Record<string, PermissionLevel>;
  /** `https://host` the client called, to build URLs in answers (Link headers). */
  requestUrl: URL;
}

export interface RestAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RestRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** The OpenAPI path template. */
  path: string;
  auth: Auth;
  /** GitHub's rate limits do not count this route (GET /rate_limit). */
  free?: boolean;
  permission?: (ctx: RestContext) => [string, PermissionLevel] | undefined;
  handle(ctx: RestContext): RestAnswer | Promise<RestAnswer>;
}

export interface RestDependencies {
  world: World;
  clock: SimClock;
  contract: Contract;
  limiter: RateLimiter;
  app: () => AppIdentity;
  faults: () => RestFault[];
  recordViolation: (v: ContractViolation) => void;
}

export function registerRestRoutes(server: FastifyInstance, routes: RestRoute[], deps: RestDependencies): void {
  const faultCounts = new Map<RestFault, number>();
  for (const route of routes) {
    const operation = deps.contract.findOperation(route.method, route.path.replace(/\{[^}]+\}/g, 'x'));
    if (!operation || operation.template !== route.path) throw new Error(`${route.method} ${route.path} is not in GitHub's OpenAPI description`);
    server.route({
      method: route.method,
      url: route.path.replace(/\{([^}]+)\}/g, ':$1'),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const requestUrl = new URL(request.url, `http://${request.headers.host ?? 'localhost'}`);
        const ctx: RestContext = {
          params: request.params as Record<string, string>,
          query: Object.fromEntries(requestUrl.searchParams),
          body: (request.body ?? undefined) as Record<string, unknown> | undefined,
          installation: undefined,
          permissions: {},
          requestUrl,
        };
        const violation = (direction: ContractViolation['direction'], errors: string[]): void =>
          deps.recordViolation({
            at: new Date().toISOString(),
            method: route.method,
            path: requestUrl.pathname,
            operationId: operation.operationId,
            direction,
            errors,
          });
        let answer: RestAnswer;
        let rateHeaders: Record<string, string> = {};
        try {
          await applyFault(route.method, requestUrl.pathname, deps.faults(), faultCounts);
          const requestErrors = deps.contract.checkRequest(operation, ctx.query, ctx.body);
          if (requestErrors.length > 0) {
            violation('request', requestErrors);
            throw new GitHubHttpError(422, `Invalid request.\n\n${requestErrors.join('\n')}`, 'https://docs.github.com/rest');
          }
          const rateKey = authenticate(route.auth, request.headers.authorization, ctx, deps);
          if (rateKey && !route.free) rateHeaders = headersOf(deps.limiter.spend(rateKey));
          else if (rateKey) rateHeaders = headersOf(deps.limiter.peek(rateKey));
          const needed = route.permission?.(ctx);
          if (needed) checkPermission(ctx.permissions, needed);
          answer = await route.handle(ctx);
        } catch (error) {
          if (!(error instanceof GitHubHttpError)) throw error;
          answer = { status: error.status, body: error.body(), headers: error.headers };
        }
        const responseErrors = deps.contract.checkResponse(operation, answer.status, answer.body);
        if (responseErrors.length > 0) {
          violation('response', responseErrors);
          request.log.error({ operationId: operation.operationId, errors: responseErrors }, 'github-sim answer violates the OpenAPI description');
          void reply
            .code(500)
            .header('x-github-sim-contract-violation', operation.operationId)
            .send({ message: `github-sim contract violation: ${responseErrors.join('; ')}`, documentation_url: 'https://docs.github.com/rest' });
          return reply;
        }
        void reply.headers({
          'x-github-api-version-selected': '2022-11-28',
          'x-github-request-id': `SIM:${request.id}`,
          'x-github-media-type': 'github.v3; format=json',
          ...rateHeaders,
          ...answer.headers,
        });
        void reply.code(answer.status).send(answer.body);
        return reply;
      },
    });
  }
}

/** Waits or answers as the first matching fault says (REST and the Actions service share the rules). */
export async function applyFault(method: string, path: string, faults: RestFault[], counts: Map<RestFault, number>): Promise<void> {
  for (const fault of faults) {
    if (fault.method && fault.method.toUpperCase() !== method) continue;
    if (!new RegExp(fault.path).test(path)) continue;
    const used = counts.get(fault) ?? 0;
    if (fault.times !== undefined && used >= fault.times) continue;
    if (fault.rate !== undefined && Math.random() >= fault.rate) continue;
    counts.set(fault, used + 1);
    if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault.status) {
      const message = fault.status >= 500 ? 'Server Error' : 'Injected fault';
      throw new GitHubHttpError(fault.status, message);
    }
  }
}

function authenticate(auth: Auth, header: string | undefined, ctx: RestContext, deps: RestDependencies): 'app' | `installation:${number}` | undefined {
  if (auth === 'none') return undefined;
  const match = /^(bearer|token)\s+(\S+)$/i.exec(header ?? '');
  if (!match) {
    throw new GitHubHttpError(401, 'Requires authentication', 'https://docs.github.com/rest');
  }
  const credential = match[2]!;
  const looksLikeJwt = credential.split('.').length === 3;
  if (looksLikeJwt && (auth === 'jwt' || auth === 'any')) {
    if (match[1]!.toLowerCase() !== 'bearer') throw badCredentials();
    verifyAppJwt(credential, deps.app(), deps.clock.now());
    return 'app';
  }
  if (auth === 'jwt') {
    // An installation token where GitHub wants the App's JWT.
    throw new GitHubHttpError(401, 'A JSON web token could not be decoded', 'https://docs.github.com/rest');
  }
  const info = deps.world.tokenInfo(credential);
  if (!info) throw badCredentials();
  ctx.installation = info.installation;
  ctx.permissions = info.permissions;
  return `installation:${info.installation.id}`;
}

function checkPermission(granted: Record<string, PermissionLevel>, [name, level]: [string, PermissionLevel]): void {
  const has = granted[name];
  if (has === 'write' || (has === 'read' && level === 'read')) return;
  throw new GitHubHttpError(403, 'Resource not accessible by integration', 'https://docs.github.com/rest', {
    'x-accepted-github-permissions': `${name}=${level}`,
  });
}
