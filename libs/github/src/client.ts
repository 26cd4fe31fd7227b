import { request as octokitRequest } from '@octokit/request';
import { RequestError } from '@octokit/request-error';
import type { Redis } from 'ioredis';
import githubAppJwt from 'universal-github-app-jwt';
import { backoffDelayMs, sleep } from './backoff.js';
import {
  ConflictError,
  ForbiddenError,
  GitHubError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from './errors.js';
import { RateBudget, type Bucket } from './rate-budget.js';
import { InstallationTokens } from './token-cache.js';

/**
 * The GitHub App client every service uses. One pipeline for every call: ask the shared budget,
 * authenticate (App JWT or the installation's shared token), send, remember the rate headers,
 * and on failure retry what GitHub says may be retried (5xx and network errors with backoff and
 * jitter; a short secondary-limit wait; one token refresh after a 401) and type the rest.
 *
 * Not @octokit/app: its token cache lives in one process and it keeps no budget across services;
 * here both live in Redis. @octokit/request does the HTTP, universal-github-app-jwt the JWTs.
 */

export interface GitHubClientOptions {
  /** https://api.github.com, https://<host>/api/v3 for GHES, or the simulator. */
  baseUrl: string;
  appId: number;
  /** The JWT issuer when set (GitHub recommends the client id); else the App id. */
  clientId?: string;
  privateKey: string;
  redis: Redis;
  /** Redis key prefix; services of one deployment share it. */
  keyPrefix?: string;
  /** JIT runner registrations per minute for the App; GitHub's observed ceiling is about 166. */
  jitPerMinute?: number;
  /** Attempts for 5xx and network errors (first try included). */
  attempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A secondary limit shorter than this is waited out; longer ones throw RateLimitedError. */
  maxWaitMs?: number;
  userAgent?: string;
  log?: { warn(obj: object, msg?: string): void; debug(obj: object, msg?: string): void };
}

export type Parameters = Record<string, unknown>;

export interface GitHubResponse<T> {
  status: number;
  headers: Record<string, string | number | undefined>;
  data: T;
}

/** Who a call is made as: the App itself (JWT) or one installation (its token). */
export type Actor = 'app' | { installationId: number };

const JWT_CLOCK_ERRORS = /'(Expiration time|Issued at)' claim/;

export class GitHubClient {
  readonly budget: RateBudget;
  readonly tokens: InstallationTokens;
  readonly appId: number;
  private readonly http: typeof octokitRequest;
  private jwt: { token: string; expiresAt: number } | undefined;
  /** Seconds GitHub's clock is ahead of ours, learned from its Date header after a clock error. */
  private skewSeconds = 0;

  constructor(private readonly options: GitHubClientOptions) {
    const prefix = options.keyPrefix ?? 'runnerhub:github';
    this.appId = options.appId;
    this.budget = new RateBudget(options.redis, `${prefix}:${options.appId}`, options.jitPerMinute ?? 150);
    this.tokens = new InstallationTokens(options.redis, `${prefix}:${options.appId}`, (id) => this.mintToken(id));
    this.http = octokitRequest.defaults({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: { 'user-agent': options.userAgent ?? 'runnerhub', 'x-github-api-version': '2022-11-28' },
    });
  }

  /** `route` as Octokit writes it: `POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig`. */
  async request<T>(actor: Actor, route: string, parameters: Parameters = {}): Promise<GitHubResponse<T>> {
    const bucket: Bucket = actor === 'app' ? 'app' : `installation:${actor.installationId}`;
    const call = describeCall(route, parameters);
    const attempts = this.options.attempts ?? 4;
    let refreshedAuth = false;
    for (let attempt = 0; ; attempt++) {
      const allowed = await this.budget.canSpend(bucket);
      if (!allowed.ok) {
        if (allowed.retryAfterMs > (this.options.maxWaitMs ?? 10_000)) {
          throw new RateLimitedError(403, call, 'rate budget spent (shared across services)', undefined, allowed.retryAfterMs, allowed.remaining !== 0);
        }
        await sleep(allowed.retryAfterMs);
      }
      const authorization = await this.authorization(actor);
      try {
        const response = (await this.http(route, { ...parameters, headers: { authorization: `Bearer ${authorization}` } })) as GitHubResponse<T>;
        await this.budget.record(bucket, response.headers);
        return response;
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        const headers = (error.response?.headers ?? {}) as Record<string, string | number | undefined>;
        if (error.response) await this.budget.record(bucket, headers);
        const message = githubMessage(error);
        const requestId = headers['x-github-request-id'] as string | undefined;
        const network = !error.response;
        if (error.status === 401 && !refreshedAuth) {
          refreshedAuth = true;
          if (actor === 'app') {
            // Our clock and GitHub's disagree: learn the difference from its Date header, sign again.
            const serverDate = Date.parse(String(headers['date'] ?? ''));
            if (JWT_CLOCK_ERRORS.test(message) && Number.isFinite(serverDate)) this.skewSeconds = Math.round((serverDate - Date.now()) / 1000);
            this.jwt = undefined;
          } else {
            await this.tokens.invalidate(actor.installationId, authorization);
          }
          continue;
        }
        const retryAfterMs = retryAfter(headers);
        const secondary = (error.status === 403 || error.status === 429) && (retryAfterMs !== undefined || /secondary rate limit/i.test(message));
        if (secondary) {
          const waitMs = retryAfterMs ?? 60_000;
          await this.budget.block(bucket, waitMs);
          if (waitMs <= (this.options.maxWaitMs ?? 10_000) && attempt + 1 < attempts) {
            this.options.log?.warn({ call, waitMs }, 'GitHub secondary rate limit; waiting');
            continue;
          }
          throw new RateLimitedError(error.status, call, message, requestId, waitMs, true);
        }
        if ((error.status === 403 || error.status === 429) && String(headers['x-ratelimit-remaining']) === '0') {
          const resetMs = Number(headers['x-ratelimit-reset']) * 1000 - Date.now();
          throw new RateLimitedError(error.status, call, message, requestId, Math.max(0, resetMs), false);
        }
        if (network || error.status >= 500) {
          if (attempt + 1 < attempts) {
            const delay = backoffDelayMs(attempt, this.options.retryBaseMs ?? 250, this.options.retryMaxMs ?? 8_000);
            this.options.log?.debug({ call, status: error.status, delay }, 'GitHub call failed; retrying');
            await sleep(delay);
            continue;
          }
          throw new UnavailableError(error.status, call, network ? `network error: ${error.message}` : message, requestId);
        }
        throw typedError(error.status, call, message, requestId, headers);
      }
    }
  }

  /** Every page of a page/per_page list, following the Link header. */
  async *paginate<T>(actor: Actor, route: string, parameters: Parameters, pick: (data: unknown) => T[]): AsyncGenerator<T> {
    let page = 1;
    for (;;) {
      const response = await this.request<unknown>(actor, route, { per_page: 100, ...parameters, page });
      yield* pick(response.data);
      if (!/rel="next"/.test(String(response.headers['link'] ?? ''))) return;
      page += 1;
    }
  }

  private async authorization(actor: Actor): Promise<string> {
    if (actor !== 'app') return this.tokens.get(actor.installationId);
    if (!this.jwt || this.jwt.expiresAt - Date.now() < 60_000) {
      const now = Math.floor(Date.now() / 1000) + this.skewSeconds;
      const { token, expiration } = await githubAppJwt({ id: this.options.clientId ?? this.options.appId, privateKey: this.options.privateKey, now });
      this.jwt = { token, expiresAt: (expiration - this.skewSeconds) * 1000 };
    }
    return this.jwt.token;
  }

  private async mintToken(installationId: number): Promise<{ token: string; expiresAt: number }> {
    const response = await this.request<{ token: string; expires_at: string }>('app', 'POST /app/installations/{installation_id}/access_tokens', {
      installation_id: installationId,
    });
    // GitHub's expiry, shifted into our clock.
    return { token: response.data.token, expiresAt: Date.parse(response.data.expires_at) - this.skewSeconds * 1000 };
  }
}

function describeCall(route: string, parameters: Parameters): string {
  return route.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = parameters[name];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : `{${name}}`;
  });
}

function githubMessage(error: RequestError): string {
  const data = error.response?.data as { message?: unknown } | string | undefined;
  if (data && typeof data === 'object' && typeof data.message === 'string') return data.message;
  return error.message;
}

function retryAfter(headers: Record<string, string | number | undefined>): number | undefined {
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

function typedError(status: number, call: string, message: string, requestId: string | undefined, headers: Record<string, string | number | undefined>): GitHubError {
  switch (status) {
    case 401:
      return new UnauthorizedError(status, call, message, requestId);
    case 403:
      return new ForbiddenError(status, call, message, requestId, headers['x-accepted-github-permissions'] as string | undefined);
    case 404:
      return new NotFoundError(status, call, message, requestId);
    case 409:
      return new ConflictError(status, call, message, requestId);
    case 422:
      return new ValidationError(status, call, message, requestId);
    default:
      return new GitHubError(status, call, message, requestId);
  }
}
