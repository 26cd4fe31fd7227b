import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ActionsServiceAuth } from './auth.js';
import { UnexpectedAnswerError } from './errors.js';
import { describe, json, send, type ActionsAnswer, type ActionsRequest, type Transport } from './transport.js';

/**
 * Calls on the Actions service tenant with the admin token (contracts/scale-set.md §2): the path
 * is relative to the tenant URL, `api-version=6.0-preview` is added (actions/scaleset
 * client.go:241-280), a 401 drops the admin token and the call is sent once more with a new one,
 * and the answer is checked against its schema before anyone reads it.
 */

export interface TenantCall<S extends TSchema | undefined> {
  query?: Record<string, string | number>;
  body?: unknown;
  ok: number[];
  schema: S;
}

export class Tenant {
  constructor(
    readonly auth: ActionsServiceAuth,
    readonly transport: Transport,
    readonly timeoutMs: number,
  ) {}

  /** A request to the tenant path, with the current admin token or `authorization` if given. */
  async request(method: ActionsRequest['method'], path: string, options: { query?: Record<string, string | number>; body?: unknown; authorization?: string } = {}): Promise<ActionsRequest> {
    const connection = await this.auth.connection();
    const url = new URL(path, connection.tenantUrl);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, String(value));
    url.searchParams.set('api-version', '6.0-preview');
    return { method, url, authorization: options.authorization ?? `Bearer ${connection.token}`, body: options.body, timeoutMs: this.timeoutMs };
  }

  async call<S extends TSchema | undefined>(method: ActionsRequest['method'], path: string, call: TenantCall<S>): Promise<S extends TSchema ? Static<S> : undefined> {
    let request = await this.request(method, path, call);
    const answer = await send(this.transport, request, {
      ok: call.ok,
      reauthorize: async () => {
        this.auth.invalidate(request.authorization.replace(/^Bearer /, ''));
        request = await this.request(method, path, call);
        return request;
      },
    });
    return decode(answer, request, call.schema) as S extends TSchema ? Static<S> : undefined;
  }
}

/** The checked JSON of an answer (nothing for no schema); UnexpectedAnswerError if it is not what the protocol says. */
export function decode(answer: ActionsAnswer, request: ActionsRequest, schema: TSchema | undefined): unknown {
  if (!schema) return undefined;
  const fail = (why: string): UnexpectedAnswerError =>
    new UnexpectedAnswerError({ ...describe(request), status: answer.status, githubMessage: why, requestId: answer.headers.get('activityid') ?? undefined });
  let body: unknown;
  try {
    body = json(answer);
  } catch {
    throw fail('the answer is not JSON');
  }
  if (!Value.Check(schema, body)) {
    const first = [...Value.Errors(schema, body)][0];
    throw fail(`the answer is not what the protocol says (${first ? `${first.path || '/'} ${first.message}` : 'invalid'})`);
  }
  return body;
}
