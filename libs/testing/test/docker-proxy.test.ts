import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { DOCKER_PROXY_URL } from '../src/infra.js';

// The Docker Engine API over TCP through deploy/socket-proxy/haproxy.cfg, as the executor sees it.
function request(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      new URL(path, DOCKER_PROXY_URL),
      { method, headers: payload ? { 'content-type': 'application/json' } : {}, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

describe('Docker socket proxy', () => {
  it('lets health and read calls through to Docker', async () => {
    expect(await request('GET', '/_ping')).toEqual({ status: 200, body: 'OK' });
    const version = await request('GET', '/v1.41/version');
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body)).toHaveProperty('ApiVersion');
    expect((await request('GET', '/containers/json?all=1')).status).toBe(200);
  });

  it('reaches Docker for allowed writes (unknown container gives Docker 404, not the proxy 403)', async () => {
    expect((await request('POST', '/v1.41/containers/runnerhub-no-such-container/start')).status).toBe(404);
  });

  it.each([
    ['POST', '/containers/runnerhub-no-such-container/exec'],
    ['POST', '/v1.41/exec/abc/start'],
    ['POST', '/build'],
    ['POST', '/v1.41/containers/prune'],
    ['GET', '/volumes'],
    ['GET', '/plugins'],
    ['POST', '/swarm/init'],
    ['GET', '/containers/abc%2Fexec/json'],
  ])('answers 403 to %s %s', async (method, path) => {
    const res = await request(method, path, method === 'POST' ? {} : undefined);
    expect(res.status).toBe(403);
    expect(res.body).toContain('runnerhub socket-proxy');
  });
});
