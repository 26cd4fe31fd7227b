import { Type, type Static } from '@sinclair/typebox';
import { decodeJwt } from 'jose';
import type { GitHubClient } from '../client.js';
import type { RunnerScope } from '../runners.js';
import { UnexpectedAnswerError } from './errors.js';
import { decode } from './tenant.js';
import { describe, send, type ActionsRequest, type Transport } from './transport.js';

/**
 * The scale-set auth chain (tools/github-sim/contracts/scale-set.md §1, actions/scaleset
 * client.go:737-1011): the installation token (GitHubClient, shared through Redis) buys a runner
 * registration token; `POST {api}/actions/runner-registration` with `RemoteAuth <it>` answers the
 * Actions service's tenant URL and an admin token, a JWT. Its `exp` (read, not verified: it is
 * GitHub's to verify) says when to go through the chain again: 60 s before, as the Go client does,
 * in GitHub's time (the answer's `Date` corrects our clock). A 401 from the service also drops the
 * token (`invalidate`), so a token GitHub ended early costs one retry, not an outage.
 */

export interface AdminConnection {
  /** Ends with `/`; the scale-set paths are relative to it. */
  tenantUrl: string;
  token: string;
  /** Epoch ms in our clock. */
  expiresAt: number;
}

/** Go through the chain again this long before the admin token expires (client.go:978). */
export const ADMIN_REFRESH_AHEAD_MS = 60_000;

const Connection = Type.Object({ url: Type.String({ minLength: 1 }), token: Type.String({ minLength: 1 }) });

/**
 * The github.com URL (or GHES host) that names a scope, from the REST API's base URL:
 * api.github.com → github.com, api.<x>.ghe.com → <x>.ghe.com, https://<ghes>/api/v3 → https://<ghes>;
 * anything else (the simulator) names itself.
 */
export function githubUrlOf(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.pathname.replace(/\/+$/, '').endsWith('/api/v3')) return url.origin;
  if (url.hostname === 'api.github.com') return `${url.protocol}//github.com`;
  if (url.hostname.startsWith('api.') && url.hostname.endsWith('.ghe.com')) return `${url.protocol}//${url.host.slice(4)}`;
  return url.origin;
}

export class ActionsServiceAuth {
  private current: AdminConnection | undefined;
  private connecting: Promise<AdminConnection> | undefined;

  constructor(
    private readonly gh: GitHubClient,
    private readonly scope: RunnerScope,
    private readonly transport: Transport,
    private readonly options: { githubUrl?: string; timeoutMs: number },
  ) {}

  /** The config URL runner-registration takes: the repository or organization on GitHub's web host. */
  get configUrl(): string {
    const base = (this.options.githubUrl ?? githubUrlOf(this.gh.apiUrl)).replace(/\/+$/, '');
    return `${base}/${'repository' in this.scope ? this.scope.repository : this.scope.org}`;
  }

  /** A connection with more than a minute left; one chain at a time however many calls ask. */
  async connection(): Promise<AdminConnection> {
    if (this.current && this.current.expiresAt - Date.now() > ADMIN_REFRESH_AHEAD_MS) return this.current;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** After a 401 on `token`: the next call goes through the chain (unless it already did). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async connect(): Promise<AdminConnection> {
    const registrationToken = await this.registrationToken();
    const request: ActionsRequest = {
      method: 'POST',
      url: new URL(`${this.gh.apiUrl}/actions/runner-registration`),
      authorization: `RemoteAuth ${registrationToken}`,
      body: { url: this.configUrl, runner_event: 'register' },
      timeoutMs: this.options.timeoutMs,
    };
    // A fresh registration token can be refused for a moment: the Go client retries 401/403 (client.go:874-881).
    const answer = await send(this.transport, request, { ok: [200, 201], retryAlso: [401, 403] });
    const body = decode(answer, request, Connection) as Static<typeof Connection>;
    let exp: number | undefined;
    try {
      exp = decodeJwt(body.token).exp;
    } catch {
      exp = undefined;
    }
    if (exp === undefined) {
      throw new UnexpectedAnswerError({ ...describe(request), status: answer.status, githubMessage: 'the admin token is not a JWT with exp', requestId: answer.headers.get('x-github-request-id') ?? undefined });
    }
    const serverNow = Date.parse(answer.headers.get('date') ?? '');
    const skewMs = Number.isFinite(serverNow) ? serverNow - Date.now() : 0;
    this.current = { tenantUrl: body.url.endsWith('/') ? body.url : `${body.url}/`, token: body.token, expiresAt: exp * 1000 - skewMs };
    return this.current;
  }

  private async registrationToken(): Promise<string> {
    const scope = this.scope;
    const response =
      'repository' in scope
        ? await this.gh.request<{ token: string }>({ installationId: scope.installationId }, 'POST /repos/{owner}/{repo}/actions/runners/registration-token', {
            owner: scope.repository.split('/')[0],
            repo: scope.repository.split('/')[1],
          })
        : await this.gh.request<{ token: string }>({ installationId: scope.installationId }, 'POST /orgs/{org}/actions/runners/registration-token', { org: scope.org });
    return response.data.token;
  }
}
