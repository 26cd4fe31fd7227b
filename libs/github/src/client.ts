import { request as octokitRequest } from '@octokit/request';
import { RequestError } from '@octokit/request-error';
import type { Redis } from 'ioredis';
import { AppJwt } from './auth/app-jwt.js';
import { InstallationTokens } from './auth/token-cache.js';
import { errorForStatus, RateLimitedError, type GitHubErrorFields } from './errors.js';
import { RateBudget, type BudgetOwner } from './rate-budget.js';
import { classifyFailure, DEFAULT_RETRY_POLICY, nextStep, sleep, type ResponseHeaders, type RetryPolicy } from './retry.js';

/**
 * The GitHub App client every service uses. One pipeline for every call: ask the shared budget →
 * authenticate (App JWT, or the installation's shared token) → send → remember the rate headers →
 * on failure, retry what GitHub says may be retried (retry.ts) and type the rest (errors.ts).
 *
 * Not @octokit/app: its token cache lives in one process and it keeps no budget across services;
 * here both live in Redis. @octokit/request does the HTTP, universal-github-app-jwt the JWTs.
 */

export interface GitHubLog {
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface GitHubClientOptions {
  /** https://api.github.com, https://<host>/api/v3 for GitHub Enterprise Server, or the simulator. */
  baseUrl: string;
  appId: number;
  /** The JWT issuer when set (GitHub recommends the client id); else the App id. */
  clientId?: string;
  /** PEM. */
  privateKey: string;
  redis: Redis;
  /** Redis key prefix; every service of one deployment must use the same one to share tokens and budget. */
  keyPrefix?: string;
  /** JIT runner registrations per minute for the App, across services; GitHub's observed ceiling is about 166. */
  jitPerMinute?: number;
  retry?: Partial<RetryPolicy>;
  /** One HTTP attempt gives up after this long (then counts as a network error). */
  timeoutMs?: number;
  userAgent?: string;
  log?: GitHubLog;
}

export type RequestParameters = Record<string, unknown>;

export interface GitHubResponse<T> {
  status: number;
  headers: ResponseHeaders;
  url: string;
  data: T;
}

/** Who a call is made as: the App itself (JWT) or one installation (its token). */
export type Actor = 'app' | { installationId: number };

export const DEFAULT_KEY_PREFIX = 'runnerhub:github';
const DEFAULT_JIT_PER_MINUTE = 150;
const DEFAULT_TIMEOUT_MS = 15_000;

export class GitHubClient {
  readonly appId: number;
  readonly budget: RateBudget;
  readonly tokens: InstallationTokens;
  private readonly jwt: AppJwt;
  private readonly http: typeof octokitRequest;
  private readonly baseUrl: string;
  private readonly policy: RetryPolicy;

  constructor(private readonly options: GitHubClientOptions) {
    const prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}:${options.appId}`;
    this.appId = options.appId;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.jwt = new AppJwt(options.clientId ?? options.appId, options.privateKey);
    this.budget = new RateBudget(options.redis, prefix, options.jitPerMinute ?? DEFAULT_JIT_PER_MINUTE);
    this.tokens = new InstallationTokens(options.redis, prefix, (id) => this.mintToken(id));
    this.http = octokitRequest.defaults({
      baseUrl: this.baseUrl,
      headers: { 'user-agent': options.userAgent ?? 'runnerhub', 'x-github-api-version': '2022-11-28' },
    });
  }

  /** The REST API base URL (no trailing slash): other GitHub hosts are named from it (scale-set/auth.ts). */
  get apiUrl(): string {
    return this.baseUrl;
  }

  /** `route` as Octokit writes it: `POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig`. */
  async request<T>(actor: Actor, route: string, parameters: RequestParameters = {}): Promise<GitHubResponse<T>> {
    const owner: BudgetOwner = actor === 'app' ? 'app' : actor.installationId;
    const call = describeCall(route, parameters);
    const started = Date.now();
    let attempts = 0;
    let refreshedAuth = false;
    for (;;) {
      await this.waitForBudget(owner, call, started);
      const credential = actor === 'app' ? await this.jwt.token() : await this.tokens.get(actor.installationId);
      let answer: { fields: GitHubErrorFields; headers: ResponseHeaders };
      try {
        const response = await this.http(route, {
          ...parameters,
          headers: { authorization: `Bearer ${credential}` },
          request: { signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS) },
        });
        const headers = response.headers as ResponseHeaders;
        await this.remember(owner, headers, call);
        return { status: response.status, headers, url: response.url, data: response.data as T };
      } catch (error) {
        answer = this.describeFailure(error, call);
      }
      const { fields, headers } = answer;
      if (fields.status > 0) await this.remember(owner, headers, call);
      const failure = classifyFailure(fields.status, headers, fields.githubMessage, Date.now());
      if (failure.kind === 'rate-limited' && failure.limit.secondary) await this.budget.block(owner, failure.limit.retryAfterMs);
      if (failure.kind !== 'unauthorized') attempts += 1;
      const step = nextStep(failure, { attempts, elapsedMs: Date.now() - started, refreshedAuth }, this.policy);
      if (!step.retry) {
        if (failure.kind === 'rate-limited') throw new RateLimitedError(fields, failure.limit);
        throw errorForStatus(fields, headerString(headers, 'x-accepted-github-permissions'));
      }
      if (step.refreshAuth) {
        refreshedAuth = true;
        if (actor === 'app') this.jwt.refused(fields.githubMessage, headerString(headers, 'date'));
        else await this.tokens.invalidate(actor.installationId, credential);
      }
      this.options.log?.[failure.kind === 'transient' ? 'debug' : 'warn']({ call, status: fields.status, reason: failure.kind, delayMs: step.delayMs }, 'GitHub call failed; retrying');
      await sleep(step.delayMs);
    }
  }

  /** Every item of a `page`/`per_page` list, 100 a page, while the Link header has a next page. */
  async *paginate<T>(actor: Actor, route: string, parameters: RequestParameters, pick: (data: unknown) => T[]): AsyncGenerator<T> {
    for (let page = 1; ; page++) {
      const response = await this.request<unknown>(actor, route, { per_page: 100, ...parameters, page });
      yield* pick(response.data);
      if (!/rel="next"/.test(String(response.headers['link'] ?? ''))) return;
    }
  }

  /**
   * Best effort: the call itself succeeded or failed at GitHub, and a Redis hiccup must not turn a
   * registration GitHub made into an error (the runner would be orphaned).
   */
  private async remember(owner: BudgetOwner, headers: ResponseHeaders, call: string): Promise<void> {
    try {
      await this.budget.record(owner, headers);
    } catch (error) {
      this.options.log?.warn({ call, err: (error as Error).message }, 'could not record GitHub rate limit headers in Redis');
    }
  }

  /** Waits out a short block or spent budget another service recorded; a long one is the caller's to handle. */
  private async waitForBudget(owner: BudgetOwner, call: string, started: number): Promise<void> {
    const answer = await this.budget.canSpend(owner);
    if (answer.ok) return;
    if (answer.retryAfterMs <= this.policy.maxWaitMs && Date.now() - started + answer.retryAfterMs <= this.policy.totalMs) {
      await sleep(answer.retryAfterMs);
      return;
    }
    const secondary = answer.reason === 'secondary';
    const why = secondary ? 'a secondary rate limit GitHub set is still running' : `the hourly rate limit is spent (${answer.remaining ?? 0} left)`;
    throw new RateLimitedError(
      { ...this.callFields(call), status: 0, githubMessage: `not sent: ${why}`, requestId: undefined },
      { retryAfterMs: answer.retryAfterMs, resetAt: new Date(Date.now() + answer.retryAfterMs), secondary },
    );
  }

  private describeFailure(error: unknown, call: string): { fields: GitHubErrorFields; headers: ResponseHeaders } {
    const base = this.callFields(call);
    if (error instanceof RequestError) {
      const url = error.request.url || base.url;
      if (!error.response) return { fields: { ...base, url, status: 0, githubMessage: `no answer (${error.message})`, requestId: undefined }, headers: {} };
      const headers = error.response.headers as ResponseHeaders;
      const data = error.response.data as { message?: unknown } | undefined;
      const githubMessage = data && typeof data === 'object' && typeof data.message === 'string' ? data.message : error.message;
      return { fields: { ...base, url, status: error.status, githubMessage, requestId: headerString(headers, 'x-github-request-id') }, headers };
    }
    // Octokit passes an aborted fetch through as it is.
    if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
      return { fields: { ...base, status: 0, githubMessage: `no answer (${error.message})`, requestId: undefined }, headers: {} };
    }
    throw error;
  }

  /** Method, URL and `METHOD /path` of a call, for errors about calls we did not send. */
  describe(route: string, parameters: RequestParameters): Pick<GitHubErrorFields, 'method' | 'url' | 'call'> {
    return this.callFields(describeCall(route, parameters));
  }

  private callFields(call: string): Pick<GitHubErrorFields, 'method' | 'url' | 'call'> {
    const space = call.indexOf(' ');
    return { method: call.slice(0, space), url: `${this.baseUrl}${call.slice(space + 1)}`, call };
  }

  private async mintToken(installationId: number): Promise<{ token: string; expiresAt: number }> {
    const response = await this.request<{ token: string; expires_at: string }>('app', 'POST /app/installations/{installation_id}/access_tokens', {
      installation_id: installationId,
    });
    return { token: response.data.token, expiresAt: this.jwt.toLocalMs(Date.parse(response.data.expires_at)) };
  }
}

/** The explicit wiring for a service's main.ts. */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  return new GitHubClient(options);
}

/** `POST /repos/{owner}/{repo}/check-runs` with its parameters filled in, for messages and logs. */
function describeCall(route: string, parameters: RequestParameters): string {
  return route.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = parameters[name];
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? encodeURIComponent(String(value)) : `{${name}}`;
  });
}

function headerString(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : String(value);
}

