/**
 * The console calls the owning service's admin API for everything it shows and does, as the person
 * who signed in (their own token), so the services' own scopes, validation and audit apply.
 */

export const UPSTREAMS = ['webhook-gateway', 'scheduler', 'pool-manager', 'container-executor', 'status-reporter'] as const;
export type Upstream = (typeof UPSTREAMS)[number];
export type UpstreamUrls = Record<Upstream, string>;

export interface Answer<T> {
  status: number;
  body: T;
}

const TIMEOUT_MS = 3_000;

export class UpstreamError extends Error {
  constructor(
    readonly service: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Upstreams {
  urls: UpstreamUrls;
  /** An admin API call; a non-2xx answer is an UpstreamError carrying the service's own message. */
  call<T>(service: Upstream, path: string, token: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** `/readyz` and `/healthz` (public): ready, version. */
  probe(service: Upstream): Promise<{ ready: boolean | null; version: string | null; detail: string }>;
}

export function createUpstreams(urls: UpstreamUrls): Upstreams {
  const raw = async (service: Upstream, path: string, init: RequestInit): Promise<Answer<unknown>> => {
    let response: Response;
    try {
      response = await fetch(`${urls[service].replace(/\/$/, '')}${path}`, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      throw new UpstreamError(service, 0, `${service} did not answer (${(error as Error).message})`);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: kept as text.
    }
    return { status: response.status, body };
  };
  return {
    urls,
    async call<T>(service: Upstream, path: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
      const answer = await raw(service, path, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      if (answer.status < 200 || answer.status > 299) {
        const message = (answer.body as { message?: unknown } | undefined)?.message;
        throw new UpstreamError(service, answer.status, `${service}: ${typeof message === 'string' ? message : `HTTP ${answer.status}`}`);
      }
      return answer.body as T;
    },
    async probe(service) {
      try {
        const [ready, health] = await Promise.all([raw(service, '/readyz', {}), raw(service, '/healthz', {})]);
        const report = ready.body as { phase?: string; checks?: Record<string, { ok?: boolean; error?: string }> } | undefined;
        const failing = Object.entries(report?.checks ?? {})
          .filter(([, c]) => c.ok === false)
          .map(([name, c]) => `${name}: ${c.error ?? 'down'}`);
        return {
          ready: ready.status === 200,
          version: (health.body as { version?: string } | undefined)?.version ?? null,
          detail: ready.status === 200 ? 'ready' : failing.join('; ') || report?.phase || `HTTP ${ready.status}`,
        };
      } catch (error) {
        return { ready: null, version: null, detail: (error as Error).message };
      }
    },
  };
}
