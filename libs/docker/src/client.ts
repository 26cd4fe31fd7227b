import Docker from 'dockerode';

/**
 * A dockerode client for `DOCKER_HOST`: `tcp://host:port` is the socket proxy (production),
 * `unix:///path` a socket (development only; the proxy is the security boundary).
 */
export function createDockerClient(dockerHost: string, options: { timeoutMs?: number } = {}): Docker {
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length), timeout: options.timeoutMs });
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http', timeout: options.timeoutMs });
}

/** Docker's HTTP status on a failed call (404 no such container, 409 conflict, ...), if any. */
export function dockerStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
