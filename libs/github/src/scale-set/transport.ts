import type { GitHubErrorFields } from '../errors.js';
import type { GitHubLog } from '../client.js';
import { classifyFailure, nextStep, sleep, type ResponseHeaders, type RetryPolicy } from '../retry.js';
import { actionsError, actionsException } from './errors.js';

/**
 * One Actions-service call with the retries GitHub allows (retry.ts: 5xx, the network and
 * timeouts with backoff; rate limits waited out), the byte order mark the service may put before
 * JSON dropped (actions/scaleset client.go:955-959), and failures typed (errors.ts). A 401 is
 * handed to the caller's `reauthorize` once (a fresh admin token, or a refreshed session); the call
 * is then tried again with the new credential. Plain `fetch`: these URLs (the tenant, the queue)
 * are not GitHub's REST API, so neither Octokit nor the REST budget applies.
 */

export interface ActionsRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  /** `Bearer <token>` or `RemoteAuth <token>`. */
  authorization: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ActionsAnswer {
  status: number;
  headers: Headers;
  /** The body as text, without a leading byte order mark. */
  text: string;
}

export interface Transport {
  policy: RetryPolicy;
  userAgent: string;
  log?: GitHubLog;
}

export interface SendOptions {
  /** Statuses that mean success. */
  ok: number[];
  /** Called once on a 401; answers the request to send again (with the new credential). */
  reauthorize?: () => Promise<ActionsRequest>;
  /** Statuses retried with backoff like a 5xx (runner-registration retries 401/403: client.go:874-881). */
  retryAlso?: number[];
  /** A 401 that reauthorizing did not cure becomes this error instead of UnauthorizedError. */
  unauthorized?: (fields: GitHubErrorFields) => Error;
}

const BOM = /^\uFEFF/;

function headerRecord(headers: Headers): ResponseHeaders {
  return Object.fromEntries(headers.entries());
}

/** `METHOD /path`: never the query (a session id) or a token. */
export function describe(request: Pick<ActionsRequest, 'method' | 'url'>): Pick<GitHubErrorFields, 'method' | 'url' | 'call'> {
  return { method: request.method, url: `${request.url.origin}${request.url.pathname}`, call: `${request.method} ${request.url.pathname}` };
}

async function attempt(transport: Transport, request: ActionsRequest): Promise<ActionsAnswer> {
  const signal = request.signal ? AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]) : AbortSignal.timeout(request.timeoutMs);
  const response = await fetch(request.url, {
    method: request.method,
    headers: {
      authorization: request.authorization,
      'user-agent': transport.userAgent,
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...request.headers,
    },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal,
  });
  // fetch's text() already drops a UTF-8 BOM; strip again in case a proxy re-encoded it.
  const text = (await response.text()).replace(BOM, '');
  return { status: response.status, headers: response.headers, text };
}

export async function send(transport: Transport, first: ActionsRequest, options: SendOptions): Promise<ActionsAnswer> {
  let request = first;
  const started = Date.now();
  let attempts = 0;
  let reauthorized = false;
  for (;;) {
    let answer: ActionsAnswer | undefined;
    let failureText: string;
    try {
      answer = await attempt(transport, request);
      if (options.ok.includes(answer.status)) return answer;
      failureText = answer.text;
    } catch (error) {
      // The caller gave up (shutdown): not a failure to retry.
      if (request.signal?.aborted) throw error;
      failureText = `no answer (${(error as Error).message})`;
    }
    const status = answer?.status ?? 0;
    const exception = answer ? actionsException(failureText) : { typeName: undefined, message: undefined };
    const githubMessage = exception.message ?? (failureText || `HTTP ${status}`);
    const fields = {
      ...describe(request),
      status,
      githubMessage: exception.typeName ? `${exception.typeName.split(',')[0]?.split('.').pop()}: ${githubMessage}` : githubMessage,
      requestId: answer?.headers.get('activityid') ?? answer?.headers.get('x-github-request-id') ?? undefined,
      typeName: exception.typeName,
    };
    if (status === 401 && options.reauthorize && !reauthorized) {
      reauthorized = true;
      request = await options.reauthorize();
      continue;
    }
    if (status === 401 && options.unauthorized && !options.retryAlso?.includes(401)) throw options.unauthorized(fields);
    const failure = options.retryAlso?.includes(status) ? ({ kind: 'transient' } as const) : classifyFailure(status, answer ? headerRecord(answer.headers) : {}, githubMessage, Date.now());
    if (failure.kind !== 'unauthorized') attempts += 1;
    const step = nextStep(failure, { attempts, elapsedMs: Date.now() - started, refreshedAuth: true }, transport.policy);
    if (!step.retry) throw actionsError(fields);
    transport.log?.[failure.kind === 'transient' ? 'debug' : 'warn']({ call: fields.call, status, delayMs: step.delayMs }, 'Actions service call failed; retrying');
    await sleep(step.delayMs);
  }
}

/** The JSON of a success, or undefined when the body is empty. */
export function json(answer: ActionsAnswer): unknown {
  return answer.text === '' ? undefined : (JSON.parse(answer.text) as unknown);
}
