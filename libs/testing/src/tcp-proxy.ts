import net from 'node:net';

export interface TcpProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Port to listen on; a free one by default. */
  listenPort?: number;
  /** Address to listen on: 127.0.0.1 by default; a test engine's veth address carries a link across namespaces. */
  listenHost?: string;
}

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's: `postgres://u:p@127.0.0.1:<port>/db`. */
  rewriteUrl(url: string): string;
  /** Simulates the dependency going away: resets every live connection, refuses new ones. */
  cut(): Promise<void>;
  /**
   * Simulates a link that hangs instead of failing (a frozen proxy, a dropped NAT entry): every live
   * connection and every new one stays open but nothing passes either way, and no error is raised.
   * Connections swallowed this way stay silent for good; restore() lets new ones through.
   */
  blackhole(): void;
  /** Accepts connections again, on the same port, and forwards new ones (after cut() or blackhole()). */
  restore(): Promise<void>;
  /** Resets every connection and stops listening for good. */
  close(): Promise<void>;
}

/**
 * A TCP proxy for fault injection (on loopback, or on a test engine's veth address): put it between a client and Postgres, NATS or Redis,
 * then cut() and restore() the link while the client runs.
 */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = options.listenHost ?? '127.0.0.1';
  const live = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = options.listenPort ?? 0;
  let swallowing = false;

  // Reads and drops whatever arrives, so the peer's writes succeed and nothing ever answers.
  const swallow = (socket: net.Socket): void => {
    socket.unpipe();
    socket.removeAllListeners('data');
    socket.on('data', () => undefined);
    socket.resume();
  };

  const forward = (client: net.Socket): void => {
    if (swallowing) {
      live.add(client);
      client.on('close', () => live.delete(client));
      client.on('error', () => undefined);
      swallow(client);
      return;
    }
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
    blackhole() {
      swallowing = true;
      for (const socket of live) swallow(socket);
    },
    async restore() {
      swallowing = false;
      if (!server) await listen();
    },
    close: stop,
  };
}
