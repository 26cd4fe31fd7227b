import type { ServerResponse } from 'node:http';
import type { Logger, Session } from '@runnerhub/platform';
import type { NowModel } from './model.js';

/**
 * Live updates of the Now page over server-sent events. With no browser connected it does nothing.
 * With one or more, a fact on NATS (job, runner, dead letter) marks the page stale; at most every
 * `minIntervalMs` the model is read once from the services and rendered per browser (each with its
 * own scope and CSRF token), and sent only where it changed. A slow refresh every `periodicMs` picks
 * up what no fact announces (readiness, host budgets).
 */

interface Client {
  res: ServerResponse;
  session: Session;
  last: string;
}

export interface LiveSettings {
  load(token: string): Promise<NowModel>;
  render(model: NowModel, session: Session): string;
  alive(session: Session): boolean;
  log: Logger;
  minIntervalMs?: number;
  periodicMs?: number;
  /** Waits this long after a fact for more of the same burst. */
  settleMs?: number;
}

export interface LiveHub {
  attach(res: ServerResponse, session: Session): void;
  /** A fact arrived: refresh soon if anyone watches. */
  changed(): void;
  clients(): number;
  /** Refreshes done (for the bench and tests). */
  refreshes(): number;
  close(): void;
}

const PING_MS = 15_000;

export function createLiveHub(o: LiveSettings): LiveHub {
  const clients = new Set<Client>();
  const minInterval = o.minIntervalMs ?? 500;
  const settle = o.settleMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let lastRun = 0;
  let refreshes = 0;
  let closed = false;

  const drop = (c: Client) => {
    clients.delete(c);
    if (!c.res.writableEnded) c.res.end();
  };

  const run = async () => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    for (const c of clients) if (!o.alive(c.session)) drop(c);
    const viewer = [...clients].find((c) => c.session.token.scope === 'write') ?? clients.values().next().value;
    if (!viewer) return;
    running = true;
    lastRun = Date.now();
    refreshes++;
    try {
      const model = await o.load(viewer.session.token.token);
      for (const c of clients) {
        const page = o.render(model, c.session);
        if (page === c.last) continue;
        c.last = page;
        c.res.write(`event: now\ndata: ${JSON.stringify(page)}\n\n`);
      }
    } catch (error) {
      o.log.warn({ err: error }, 'console: live refresh failed');
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      schedule(settle);
    }
  };

  const schedule = (delay: number) => {
    if (timer || closed || clients.size === 0) return;
    timer = setTimeout(() => void run(), Math.max(delay, lastRun + minInterval - Date.now()));
  };

  const periodic = setInterval(() => schedule(0), o.periodicMs ?? 5_000);
  periodic.unref();
  const ping = setInterval(() => {
    for (const c of clients) c.res.write(': ping\n\n');
  }, PING_MS);
  ping.unref();

  return {
    attach(res, session) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 2000\n\n');
      const client: Client = { res, session, last: '' };
      clients.add(client);
      res.on('close', () => clients.delete(client));
      // What changed between the page's render and this connection.
      schedule(0);
    },
    changed: () => schedule(settle),
    clients: () => clients.size,
    refreshes: () => refreshes,
    close() {
      closed = true;
      clearInterval(periodic);
      clearInterval(ping);
      if (timer) clearTimeout(timer);
      for (const c of [...clients]) drop(c);
    },
  };
}
