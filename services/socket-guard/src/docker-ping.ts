import { request } from 'node:http';

/** GET /_ping on the Docker socket: the guard's one dependency. */
export function pingSocket(socketPath: string, timeoutMs = 1_500): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`docker answered ${res.statusCode} to /_ping on ${socketPath}`));
    });
    req.on('timeout', () => req.destroy(new Error(`docker did not answer /_ping on ${socketPath} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
