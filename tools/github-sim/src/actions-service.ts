import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContractViolation, RestFault, SimActionsRequest } from './api.js';
import type { TenantScope } from './actions-tokens.js';
import { ACTIONS_EXCEPTION, ActionsServiceError, GitHubHttpError } from './errors.js';
import { applyFault } from './rest.js';
import type { ScaleSetContract, ScaleSetHost } from './scale-set-contract.js';
import type { ScaleSet, ScaleSets, Session } from './scale-sets.js';
import type { Runner } from './world.js';

/**
 * The Actions service over HTTP (contracts/scale-set.md): `POST /actions/runner-registration` on
 * the REST host, the tenant's `_apis/...` routes and the message queue. Every call goes through one
 * pipeline: injected faults, the contract's request check, authentication (RemoteAuth, the admin
 * JWT or a queue token), the handler, the contract's answer check, and the optional UTF-8 BOM the
 * service puts before JSON (actions/scaleset client.go:955-959).
 */

export interface ActionsServiceDependencies {
  scaleSets: ScaleSets;
  contract: ScaleSetContract;
  faults: () => RestFault[];
  bom: () => boolean;
  recordViolation: (v: ContractViolation) => void;
  recordRequest: (r: SimActionsRequest) => void;
}

interface Context {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  request: FastifyRequest;
  /** Admin-token routes. */
  tenant: TenantScope;
  /** Queue-token routes. */
  queue: { scaleSet: ScaleSet; session: Session };
}

interface Answer {
  status: number;
  body?: unknown;
}

interface ActionsRoute {
  op: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  auth: 'remote' | 'admin' | 'queue';
  handle(ctx: Context): Answer | Promise<Answer>;
}

const ok = (body: unknown): Answer => ({ status: 200, body });
const NO_CONTENT: Answer = { status: 204 };
const integer = (value: string | undefined): number => (value !== undefined && /^\d+$/.test(value) ? Number(value) : NaN);

function runnerReference(runner: Runner): Record<string, unknown> {
  return { id: runner.id, name: runner.name, runnerScaleSetId: runner.scaleSetId ?? 0 };
}

/** The admin token, or GitHub's 401. */
function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

const unauthorized = (what: string): ActionsServiceError => new ActionsServiceError(401, ACTIONS_EXCEPTION.unauthorized, `${what} is missing, expired or not valid here.`);

function routes(scaleSets: ScaleSets): ActionsRoute[] {
  const tenant = scaleSets.tenantPath();
  const scaleSetPath = `${tenant}/_apis/runtime/runnerscalesets`;
  const agents = `${tenant}/_apis/distributedtask/pools/0/agents`;
  const ghes = tenant.startsWith('/_services/');
  const queuePath = ghes ? `${scaleSetPath}/:scaleSetId/messages` : '/_broker/scalesets/message';
  const scaleSetInput = (body: Record<string, unknown>): { name?: string; runnerGroupId?: number; labels?: string[]; disableUpdate?: boolean } => ({
    name: body['name'] as string | undefined,
    runnerGroupId: body['runnerGroupId'] as number | undefined,
    labels: (body['labels'] as { name: string }[] | undefined)?.map((l) => l.name),
    disableUpdate: (body['RunnerSetting'] as { disableUpdate?: boolean } | undefined)?.disableUpdate,
  });
  const id = (ctx: Context): number => integer(ctx.params['scaleSetId']);
  /** A queue route's scale set must be the token's (the GHES path names it). */
  const queueScaleSet = (ctx: Context): void => {
    const named = ctx.params['scaleSetId'];
    if (named !== undefined && integer(named) !== ctx.queue.scaleSet.id) throw unauthorized('The message queue token');
  };

  return [
    {
      op: 'runner-registration',
      method: 'POST',
      url: '/actions/runner-registration',
      auth: 'remote',
      handle: async (ctx) => {
        const token = /^RemoteAuth\s+(\S+)$/.exec(ctx.request.headers.authorization ?? '')?.[1] ?? '';
        const body = ctx.body as { url: string };
        const connection = await scaleSets.connect(token, body.url);
        if (connection === 'unauthorized') throw new GitHubHttpError(401, 'Bad credentials');
        if (connection === 'not-found') throw new GitHubHttpError(404, 'Not Found');
        return ok({ url: connection.url, token: connection.token, token_schema: 'OAuthAccessToken', use_v2_flow: false });
      },
    },
    ...['/', ''].map(
      (slash): ActionsRoute => ({
        op: 'get-runner-groups',
        method: 'GET',
        url: `${tenant}/_apis/runtime/runnergroups${slash}`,
        auth: 'admin',
        handle: (ctx) => {
          const groups = scaleSets.runnerGroups(ctx.tenant, ctx.query['groupName'] ?? '');
          const size = (groupId: number): number => scaleSets.runnersInScope(ctx.tenant).filter((r) => r.runnerGroupId === groupId).length;
          return ok({ count: groups.length, value: groups.map((g) => ({ id: g.id, name: g.name, size: size(g.id), isDefaultGroup: g.isDefault })) });
        },
      }),
    ),
    {
      op: 'find-scale-sets',
      method: 'GET',
      url: scaleSetPath,
      auth: 'admin',
      handle: (ctx) => {
        const found = scaleSets.find(ctx.tenant, { runnerGroupId: integer(ctx.query['runnerGroupId']), name: ctx.query['name'] });
        return ok({ count: found.length, value: found.map((s) => scaleSets.scaleSetAnswer(s)) });
      },
    },
    {
      op: 'create-scale-set',
      method: 'POST',
      url: scaleSetPath,
      auth: 'admin',
      handle: (ctx) => {
        const input = scaleSetInput(ctx.body as Record<string, unknown>);
        const created = scaleSets.create(ctx.tenant, { name: input.name!, runnerGroupId: input.runnerGroupId!, labels: input.labels ?? [], disableUpdate: input.disableUpdate ?? false });
        return ok(scaleSets.scaleSetAnswer(created));
      },
    },
    { op: 'get-scale-set', method: 'GET', url: `${scaleSetPath}/:scaleSetId`, auth: 'admin', handle: (ctx) => ok(scaleSets.scaleSetAnswer(scaleSets.get(ctx.tenant, id(ctx)))) },
    {
      op: 'update-scale-set',
      method: 'PATCH',
      url: `${scaleSetPath}/:scaleSetId`,
      auth: 'admin',
      handle: (ctx) => ok(scaleSets.scaleSetAnswer(scaleSets.update(ctx.tenant, id(ctx), scaleSetInput(ctx.body as Record<string, unknown>)))),
    },
    {
      op: 'delete-scale-set',
      method: 'DELETE',
      url: `${scaleSetPath}/:scaleSetId`,
      auth: 'admin',
      handle: (ctx) => {
        scaleSets.delete(ctx.tenant, id(ctx));
        return NO_CONTENT;
      },
    },
    {
      op: 'create-session',
      method: 'POST',
      url: `${scaleSetPath}/:scaleSetId/sessions`,
      auth: 'admin',
      handle: (ctx) => {
        const session = scaleSets.createSession(ctx.tenant, id(ctx), (ctx.body as { ownerName: string }).ownerName);
        return ok(scaleSets.sessionAnswer(scaleSets.get(ctx.tenant, id(ctx)), session));
      },
    },
    {
      op: 'refresh-session',
      method: 'PATCH',
      url: `${scaleSetPath}/:scaleSetId/sessions/:sessionId`,
      auth: 'admin',
      handle: (ctx) => {
        const session = scaleSets.refreshSession(ctx.tenant, id(ctx), ctx.params['sessionId'] ?? '');
        return ok(scaleSets.sessionAnswer(scaleSets.get(ctx.tenant, id(ctx)), session));
      },
    },
    {
      op: 'delete-session',
      method: 'DELETE',
      url: `${scaleSetPath}/:scaleSetId/sessions/:sessionId`,
      auth: 'admin',
      handle: (ctx) => {
        scaleSets.deleteSession(ctx.tenant, id(ctx), ctx.params['sessionId'] ?? '');
        return NO_CONTENT;
      },
    },
    {
      op: 'get-message',
      method: 'GET',
      url: queuePath,
      auth: 'queue',
      handle: async (ctx) => {
        queueScaleSet(ctx);
        const { scaleSet, session } = ctx.queue;
        const closed = new Promise<void>((resolve) => ctx.request.raw.once('close', () => resolve()));
        const capacity = Number(ctx.request.headers['x-scalesetmaxcapacity']);
        const outcome = await scaleSets.poll(scaleSet, session, integer(ctx.query['lastMessageId']) || 0, capacity, closed);
        switch (outcome.kind) {
          case 'message':
            return ok(outcome.message);
          case 'empty':
            return { status: 202 };
          case 'unauthorized':
            throw unauthorized('The message queue token');
          case 'gone':
            throw new ActionsServiceError(404, ACTIONS_EXCEPTION.sessionNotFound, `The session of runner scale set ${scaleSet.name} is gone.`);
        }
      },
    },
    {
      op: 'delete-message',
      method: 'DELETE',
      url: `${queuePath}/:messageId`,
      auth: 'queue',
      handle: (ctx) => {
        queueScaleSet(ctx);
        scaleSets.acknowledge(ctx.queue.scaleSet, ctx.queue.session, integer(ctx.params['messageId']));
        return NO_CONTENT;
      },
    },
    {
      op: 'acquire-jobs',
      method: 'POST',
      url: `${scaleSetPath}/:scaleSetId/acquirejobs`,
      auth: 'queue',
      handle: (ctx) => {
        if (id(ctx) !== ctx.queue.scaleSet.id) throw unauthorized('The message queue token');
        const acquired = scaleSets.acquire(ctx.queue.scaleSet, ctx.queue.session, ctx.body as number[]);
        return ok({ count: acquired.length, value: acquired });
      },
    },
    {
      op: 'generate-jit-config',
      method: 'POST',
      url: `${scaleSetPath}/:scaleSetId/generatejitconfig`,
      auth: 'admin',
      handle: (ctx) => {
        const body = ctx.body as { name: string; workFolder?: string };
        const { runner, encodedJITConfig } = scaleSets.generateJitConfig(ctx.tenant, id(ctx), { name: body.name, workFolder: body.workFolder ?? '' });
        return ok({ runner: runnerReference(runner), encodedJITConfig });
      },
    },
    {
      op: 'get-runner-by-name',
      method: 'GET',
      url: agents,
      auth: 'admin',
      handle: (ctx) => {
        const found = scaleSets.runnersInScope(ctx.tenant).filter((r) => r.name === ctx.query['agentName']);
        return ok({ count: found.length, value: found.map(runnerReference) });
      },
    },
    { op: 'get-runner', method: 'GET', url: `${agents}/:runnerId`, auth: 'admin', handle: (ctx) => ok(runnerReference(scaleSets.runner(ctx.tenant, integer(ctx.params['runnerId'])))) },
    {
      op: 'remove-runner',
      method: 'DELETE',
      url: `${agents}/:runnerId`,
      auth: 'admin',
      handle: (ctx) => {
        scaleSets.removeRunner(ctx.tenant, integer(ctx.params['runnerId']));
        return NO_CONTENT;
      },
    },
  ];
}

export function registerActionsService(server: FastifyInstance, deps: ActionsServiceDependencies): void {
  const faultCounts = new Map<RestFault, number>();
  // Inside a plugin of its own: bodies arrive as text whatever the content type (a Go client sends
  // `Content-Type: application/json` on bodiless GETs and DELETEs), and the pipeline parses them.
  void server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    for (const route of routes(deps.scaleSets)) {
      const host: ScaleSetHost = deps.contract.operation(route.op).host;
      scope.route({ method: route.method, url: route.url, handler: (request, reply) => handle(route, host, request, reply, deps, faultCounts) });
    }
  });
}

async function handle(route: ActionsRoute, host: ScaleSetHost, request: FastifyRequest, reply: FastifyReply, deps: ActionsServiceDependencies, faultCounts: Map<RestFault, number>): Promise<FastifyReply> {
  const url = new URL(request.url, 'http://sim');
  const violation = (direction: ContractViolation['direction'], errors: string[]): void =>
    deps.recordViolation({ at: new Date().toISOString(), method: route.method, path: url.pathname, operationId: route.op, direction, errors });
  let answer: Answer;
  try {
    await applyFault(route.method, url.pathname, deps.faults(), faultCounts);
    const raw = typeof request.body === 'string' ? request.body : '';
    let body: unknown;
    try {
      body = raw === '' ? undefined : (JSON.parse(raw) as unknown);
    } catch {
      throw new ActionsServiceError(400, ACTIONS_EXCEPTION.invalidRequest, 'The request body is not JSON.');
    }
    const ctx = { params: request.params as Record<string, string>, query: Object.fromEntries(url.searchParams), body, request } as Context;
    const requestErrors = deps.contract.checkRequest(route.op, { headers: request.headers, query: ctx.query, body });
    if (requestErrors.length > 0) {
      violation('request', requestErrors);
      throw new ActionsServiceError(400, ACTIONS_EXCEPTION.invalidRequest, `Invalid request: ${requestErrors.join('; ')}`);
    }
    if (route.auth === 'admin') {
      const scope = await deps.scaleSets.tokens.adminScope(bearer(request) ?? '');
      if (!scope) throw unauthorized('The Actions service token');
      ctx.tenant = scope;
    } else if (route.auth === 'queue') {
      const found = deps.scaleSets.bySessionToken(bearer(request) ?? '');
      if (found === 'unauthorized') throw unauthorized('The message queue token');
      if (found === 'gone') throw new ActionsServiceError(404, ACTIONS_EXCEPTION.sessionNotFound, 'The message session of this token is gone.');
      ctx.queue = found;
    }
    answer = await route.handle(ctx);
  } catch (error) {
    answer = errorAnswer(error, host);
  }
  deps.recordRequest({ at: new Date().toISOString(), operationId: route.op, method: route.method, path: url.pathname, status: answer.status });
  const responseErrors = deps.contract.checkResponse(route.op, answer.status, answer.body);
  if (responseErrors.length > 0) {
    violation('response', responseErrors);
    request.log.error({ operationId: route.op, errors: responseErrors }, 'github-sim answer violates the scale-set contract');
    return reply
      .code(500)
      .header('x-github-sim-contract-violation', route.op)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify(new ActionsServiceError(500, ACTIONS_EXCEPTION.unavailable, `github-sim contract violation: ${responseErrors.join('; ')}`).body()));
  }
  void reply.code(answer.status).header(host === 'api' ? 'x-github-request-id' : 'activityid', host === 'api' ? `SIM:${request.id}` : randomUUID());
  if (answer.body === undefined) return reply.send();
  const json = JSON.stringify(answer.body);
  return reply.header('content-type', 'application/json; charset=utf-8').send(deps.bom() ? `\uFEFF${json}` : json);
}

/** Our errors in the host's shape: GitHub's on the REST host, VSS exceptions on the Actions service. */
function errorAnswer(error: unknown, host: ScaleSetHost): Answer {
  if (host === 'api') {
    if (error instanceof GitHubHttpError) return { status: error.status, body: error.body() };
    if (error instanceof ActionsServiceError) return { status: error.status, body: new GitHubHttpError(error.status, error.message).body() };
    throw error;
  }
  if (error instanceof ActionsServiceError) return { status: error.status, body: error.body() };
  // Injected faults and world refusals arrive as GitHub errors.
  if (error instanceof GitHubHttpError) {
    const typeName = error.status >= 500 ? ACTIONS_EXCEPTION.unavailable : error.status === 401 ? ACTIONS_EXCEPTION.unauthorized : ACTIONS_EXCEPTION.invalidRequest;
    return { status: error.status, body: new ActionsServiceError(error.status, typeName, error.message).body() };
  }
  throw error;
}
