import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Counter } from '@opentelemetry/api';
import { checkContainerCreate, checkNetworkCreate, classify, decideOnTarget, type Decision, type GuardPolicy, type Labels, type Route } from '@runnerhub/docker-guard';
import type { Logger } from '@runnerhub/platform';

/**
 * The guarded Docker API: a plain Node HTTP server that answers what the policy refuses with 403 and
 * a reason, and forwards the rest to the Docker socket. Bodies it must check (container and network
 * creates) are read whole, parsed, checked and forwarded re-serialised, so Docker decodes exactly what
 * was checked; a create's query is cut to `name`. Calls on one object are forwarded to the id the
 * lookup found, so a name that changes owner between the check and the call cannot be used. Other
 * bodies (the JIT archive) and every answer (the event feed, logs, pull progress) are streamed.
 * Connection upgrades (attach, exec) are refused: the executor makes none.
 */

export interface GuardServerSettings {
  policy: GuardPolicy;
  dockerSocket: string;
  bodyLimitBytes: number;
  log: Logger;
  /** Counts every decision: route (what), decision (allowed, refused). */
  decisions?: Counter;
}

export interface GuardServer {
  server: Server;
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

const VERSION_PREFIX = /^\/v[0-9]+(\.[0-9]+)?(?=\/)/;
/** Headers that belong to one hop; the rest pass to Docker as the client sent them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

class BodyTooLarge extends Error {}

export function createGuardServer(s: GuardServerSettings): GuardServer {
  const sockets = new Set<Socket>();
  const count = (what: string, decision: 'allowed' | 'refused') => s.decisions?.add(1, { route: what, decision });

  const refuse = (res: ServerResponse, req: IncomingMessage, what: string, reason: string, status = 403) => {
    count(what, 'refused');
    s.log.warn({ method: req.method, path: (req.url ?? '').split('?')[0], route: what, reason }, `socket guard refused ${what}`);
    // Docker's own error shape: dockerode and the docker CLI print `message`.
    sendJson(res, status, { message: `runnerhub socket-guard: ${reason}` });
  };

  const upstream = (method: string, path: string, headers: IncomingHttpHeaders, body?: Buffer | IncomingMessage) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const forwarded: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) forwarded[k] = v;
      if (Buffer.isBuffer(body)) {
        forwarded['content-type'] = 'application/json';
        forwarded['content-length'] = String(body.length);
      } else if (body && headers['content-length']) {
        forwarded['content-length'] = headers['content-length'];
      }
      const up = httpRequest({ socketPath: s.dockerSocket, method, path, headers: { ...forwarded, host: 'docker' } }, resolve);
      up.on('error', reject);
      if (Buffer.isBuffer(body)) up.end(body);
      else if (body) body.pipe(up);
      else up.end();
    });

  const forward = async (req: IncomingMessage, res: ServerResponse, path: string, what: string, body?: Buffer) => {
    const streamed = body ?? (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE' ? undefined : req);
    const answer = await upstream(req.method ?? 'GET', path, req.headers, streamed);
    count(what, 'allowed');
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    // Now, not with the first chunk: a client waits for the headers of an event feed before it
    // does whatever the feed is to report.
    res.flushHeaders();
    // An event feed or a followed log ends when its client leaves.
    res.on('close', () => answer.destroy());
    answer.pipe(res);
  };

  /** The labels of a container or network, its full id, or null when Docker has no such object. */
  const lookup = async (kind: 'container' | 'network', id: string, headers: IncomingHttpHeaders): Promise<{ id: string; labels: Labels } | null> => {
    const answer = await upstream('GET', kind === 'container' ? `/containers/${id}/json` : `/networks/${id}`, { accept: headers['accept'] ?? 'application/json' });
    const text = await readAll(answer, 16 * 1024 * 1024);
    if (answer.statusCode === 404) return null;
    if (answer.statusCode !== 200) throw new Error(`docker answered ${answer.statusCode} to the ${kind} lookup: ${text.toString('utf8').slice(0, 200)}`);
    const object = JSON.parse(text.toString('utf8')) as { Id: string; Labels?: Labels; Config?: { Labels?: Labels } };
    return { id: object.Id, labels: kind === 'container' ? (object.Config?.Labels ?? null) : (object.Labels ?? null) };
  };

  const readJson = async (req: IncomingMessage): Promise<{ ok: true; body: unknown } | { ok: false; reason: string }> => {
    const raw = await readAll(req, s.bodyLimitBytes);
    try {
      return { ok: true, body: raw.length === 0 ? {} : (JSON.parse(raw.toString('utf8')) as unknown) };
    } catch {
      return { ok: false, reason: 'the body is not JSON' };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const search = q < 0 ? '' : raw.slice(q + 1);
    const query = new URLSearchParams(search);
    const version = VERSION_PREFIX.exec(path)?.[0] ?? '';
    const route: Route = classify(req.method ?? 'GET', path, query, s.policy);
    switch (route.kind) {
      case 'refuse':
        return refuse(res, req, route.what, route.reason);
      case 'pass':
        return forward(req, res, raw, route.what);
      case 'create-container':
      case 'create-network': {
        const parsed = await readJson(req);
        if (!parsed.ok) return refuse(res, req, route.what, parsed.reason, 400);
        const decision: Decision =
          route.kind === 'create-container' ? checkContainerCreate({ name: query.get('name'), platform: query.get('platform') }, parsed.body, s.policy) : checkNetworkCreate(parsed.body, s.policy);
        if (!decision.allow) return refuse(res, req, route.what, decision.reason);
        const target = route.kind === 'create-container' ? `${version}/containers/create?name=${encodeURIComponent(query.get('name')!)}` : `${version}/networks/create`;
        return forward(req, res, target, route.what, Buffer.from(JSON.stringify(parsed.body)));
      }
      case 'container':
      case 'network': {
        const found = await lookup(route.kind, route.id, req.headers);
        if (!found) {
          count(route.what, 'allowed');
          return sendJson(res, 404, { message: `No such ${route.kind}: ${route.id}` });
        }
        const decision = decideOnTarget(route, found.labels, s.policy);
        if (!decision.allow) return refuse(res, req, route.what, decision.reason);
        const target = `${version}/${route.kind}s/${found.id}${route.rest}${search ? `?${search}` : ''}`;
        return forward(req, res, target, route.what);
      }
    }
  };

  const server = createServer({ requestTimeout: 10 * 60_000, headersTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof BodyTooLarge) return refuse(res, req, 'body', `the body is larger than ${s.bodyLimitBytes} bytes`, 413);
      s.log.warn({ err: String(error), method: req.method, path: (req.url ?? '').split('?')[0] }, 'socket guard could not reach Docker');
      if (!res.headersSent) sendJson(res, 502, { message: `runnerhub socket-guard: Docker did not answer (${String(error)})` });
      else res.destroy();
    });
  });
  // attach and exec hijack the connection; the executor makes neither, so no upgrade is forwarded.
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    count('upgrade', 'refused');
    s.log.warn({ method: req.method, path: (req.url ?? '').split('?')[0] }, 'socket guard refused a connection upgrade');
    const body = JSON.stringify({ message: 'runnerhub socket-guard: connection upgrades (attach, exec) are never forwarded' });
    socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  return {
    server,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const a = server.address();
          resolve(typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a));
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Event feeds never end by themselves: the executor reconnects to the next guard.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readAll(stream: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.destroy();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
