import net from 'node:net';

export interface TcpProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Port to listen on (127.0.0.1); a free one by default. */
  listenPort?: number;
}

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's: `postgres://u:p@127.0.0.1:<port>/db`. */
  rewriteUrl(url: string): string;
  /** Simulates the dependency going away: resets every live connection, refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  /** Resets every connection and stops listening for good. */
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy for fault injection: put it between a client and Postgres, NATS or Redis,
 * then cut() and restore() the link while the client runs.
 */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = '127.0.0.1';
  const live = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = options.listenPort ?? 0;

  const forward = (client: net.Socket): void => {
    const upstream = net.connect({ host: options.targetHost, port: options.targetPort });
    for (const socket of [client, upstream]) {
      live.add(socket);
      socket.on('close', () => live.delete(socket));
      // A reset on one side ends the pair; the error itself is the point of the exercise.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = async (): Promise<void> => {
    const next = net.createServer(forward);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, host, () => {
        next.off('error', reject);
        resolve();
      });
    });
    port = (next.address() as net.AddressInfo).port;
    server = next;
  };

  const stop = async (): Promise<void> => {
    const current = server;
    server = undefined;
    for (const socket of live) socket.resetAndDestroy();
    live.clear();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();

  return {
    host,
    get port() {
      return port;
    },
    rewriteUrl(url: string): string {
      const parsed = new URL(url);
      parsed.hostname = host;
      parsed.port = String(port);
      return parsed.toString();
    },
    cut: stop,
    async restore() {
      if (!server) await listen();
    },
    close: stop,
  };
}
