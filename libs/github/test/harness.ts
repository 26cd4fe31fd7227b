import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGitHubSim, type GitHubSim, type SimInstallation, type SimOptions } from '@runnerhub/github-sim';
import { REDIS_URL } from '@runnerhub/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createGitHubClient, type GitHubClient, type GitHubClientOptions } from '../src/index.js';

/**
 * Contract-test setup: a fresh GitHub simulator per test, real Redis under a key prefix of its
 * own, and clients wired as a service's main.ts wires them. After each test the simulator must
 * have seen no request or answer that breaks GitHub's OpenAPI description.
 */
export interface Harness {
  sim: GitHubSim;
  redis: Redis;
  /** An organization installation with repositories `app` and `web`. */
  acme: SimInstallation;
  prefix: string;
  client(options?: Partial<GitHubClientOptions>): GitHubClient;
}

export function useSimulator(simOptions: SimOptions = {}): Harness {
  const harness = {} as Harness;
  const run = `test:github:${randomBytes(4).toString('hex')}`;
  let n = 0;

  beforeAll(() => {
    harness.redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  });

  afterAll(async () => {
    await harness.redis.quit();
  });

  beforeEach(async () => {
    harness.prefix = `${run}:${++n}`;
    harness.sim = await startGitHubSim(simOptions);
    harness.acme = harness.sim.createInstallation({ account: 'acme', type: 'Organization', repositories: ['app', 'web'] });
    harness.client = (options = {}) =>
      createGitHubClient({
        baseUrl: harness.sim.url,
        appId: harness.sim.app.id,
        clientId: harness.sim.app.clientId,
        privateKey: harness.sim.app.privateKey,
        redis: harness.redis,
        keyPrefix: harness.prefix,
        ...options,
        retry: { baseMs: 5, maxMs: 50, ...options.retry },
      });
  });

  afterEach(async () => {
    const violations = harness.sim.violations();
    await harness.sim.close();
    const keys = await harness.redis.keys(`${harness.prefix}:*`);
    if (keys.length > 0) await harness.redis.del(...keys);
    expect(violations).toEqual([]);
  });

  return harness;
}

/**
 * How many App-JWT calls the simulator has counted, from its `x-ratelimit-used` for the App (the
 * probe itself excluded). Every installation token minted is one such call.
 */
export async function appCallsSoFar(gh: GitHubClient): Promise<number> {
  const response = await gh.request('app', 'GET /app');
  return Number(response.headers['x-ratelimit-used']) - 1;
}

/** The runner side of the simulator's private protocol (README "Runner protocol"), enough to take a job. */
export async function connectRunner(encodedJitConfig: string): Promise<{ takeJob(waitSeconds: number): Promise<{ id: number } | undefined>; complete(jobId: number): Promise<void> }> {
  const files = JSON.parse(Buffer.from(encodedJitConfig, 'base64').toString()) as Record<string, string>;
  const settings = JSON.parse(Buffer.from(files['.runner']!, 'base64').toString()) as { AgentId: number; ServerUrl: string };
  const secret = (JSON.parse(Buffer.from(files['.credentials']!, 'base64').toString()) as { Data: { token: string } }).Data.token;
  const call = async (path: string, method: string, body?: unknown): Promise<Response> =>
    fetch(`${settings.ServerUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const session = await call('/_runner/sessions', 'POST', { agentId: settings.AgentId, version: '2.321.0', os: 'Linux' });
  expect(session.status).toBe(201);
  const { sessionId } = (await session.json()) as { sessionId: string };
  return {
    async takeJob(waitSeconds) {
      const message = await call(`/_runner/sessions/${sessionId}/message?waitSeconds=${waitSeconds}`, 'GET');
      if (message.status === 204) return undefined;
      expect(message.status).toBe(200);
      return ((await message.json()) as { job: { id: number } }).job;
    },
    async complete(jobId) {
      expect((await call(`/_runner/jobs/${jobId}/complete`, 'POST', { conclusion: 'success' })).status).toBe(200);
    },
  };
}

/**
 * GitHub Enterprise Server serves the API under `/api/v3`: this proxy does the same in front of the
 * simulator and refuses every path outside it, so a client that follows GitHub's absolute Link URLs
 * (which the simulator builds without the prefix) instead of keeping its own base URL fails.
 */
export async function startGhesProxy(target: string): Promise<{ baseUrl: string; requests: string[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (!req.url?.startsWith('/api/v3/')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url.slice('/api/v3'.length), headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v3`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
