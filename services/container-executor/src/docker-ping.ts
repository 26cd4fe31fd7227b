import { request } from 'node:http';

/**
 * Readiness probe for the Docker engine behind the socket proxy: GET /_ping must answer 200 "OK".
 * The full Docker client (libs/docker, dockerode) replaces this once containers are managed here.
 */
export function pingDocker(dockerHost: string, timeoutMs = 1_500): Promise<void> {
  const target = dockerHost.startsWith('unix://')
    ? { socketPath: dockerHost.slice('unix://'.length) }
    : (() => {
        const u = new URL(dockerHost.replace(/^tcp:/, 'http:'));
        return { host: u.hostname, port: Number(u.port || 2375) };
      })();
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`docker answered ${res.statusCode} to /_ping`));
    });
    req.on('timeout', () => req.destroy(new Error(`docker did not answer /_ping within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
