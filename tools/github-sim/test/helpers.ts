import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createSign } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import type { GitHubSim } from '../src/index.js';

/** A webhook receiver that keeps raw bodies and headers, answering `status` (default 200). */
export interface Receiver {
  url: string;
  received: { headers: IncomingHttpHeaders; body: string }[];
  status: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver = { received: [], status: 200 } as unknown as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(receiver.status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks/github`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}

export function appAuth(sim: GitHubSim, iss: 'id' | 'clientId' = 'id'): ReturnType<typeof createAppAuth> {
  return createAppAuth({
    appId: iss === 'id' ? sim.app.id : sim.app.clientId,
    privateKey: sim.app.privateKey,
    request: request.defaults({ baseUrl: sim.url }),
  });
}

export async function installationToken(sim: GitHubSim, installationId: number): Promise<string> {
  const auth = await appAuth(sim)({ type: 'installation', installationId });
  return auth.token;
}

export async function appJwt(sim: GitHubSim): Promise<string> {
  return (await appAuth(sim)({ type: 'app' })).token;
}

/** A JWT with chosen claims, for the checks octokit would never fail. */
export function signJwt(privateKey: string, claims: Record<string, unknown>): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(privateKey).toString('base64url');
  return `${unsigned}.${signature}`;
}

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function api<T = Record<string, unknown>>(
  sim: GitHubSim,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<ApiAnswer<T>> {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The runner side of the protocol, by hand: what the fake runner does, step by step. */
export class ProtocolRunner {
  readonly serverUrl: string;
  readonly secret: string;
  sessionId = '';

  constructor(encodedJitConfig: string) {
    const files = JSON.parse(Buffer.from(encodedJitConfig, 'base64').toString('utf8')) as Record<string, string>;
    const settings = JSON.parse(Buffer.from(files['.runner']!, 'base64').toString('utf8')) as { ServerUrl: string };
    const credentials = JSON.parse(Buffer.from(files['.credentials']!, 'base64').toString('utf8')) as { Data: { token: string } };
    this.serverUrl = settings.ServerUrl;
    this.secret = credentials.Data.token;
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.serverUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  async connect(version = '2.330.0-test'): Promise<number> {
    const answer = await this.call('POST', '/_runner/sessions', { version, os: 'Linux' });
    if (answer.status === 201) this.sessionId = answer.body['sessionId'] as string;
    return answer.status;
  }

  async nextJob(waitSeconds = 5): Promise<{ status: number; job?: { id: number; name: string }; body: Record<string, unknown> }> {
    const answer = await this.call('GET', `/_runner/sessions/${this.sessionId}/message?waitSeconds=${waitSeconds}`);
    return { status: answer.status, job: (answer.body['job'] as { id: number; name: string } | undefined) ?? undefined, body: answer.body };
  }

  async renew(jobId: number): Promise<{ status: number; body: Record<string, unknown> }> {
    return this.call('POST', `/_runner/jobs/${jobId}/renew`);
  }

  async complete(jobId: number, conclusion: 'success' | 'failure' | 'cancelled'): Promise<number> {
    return (await this.call('POST', `/_runner/jobs/${jobId}/complete`, { conclusion })).status;
  }
}
