import { chmod, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import {
  checkJobBuild,
  checkJobContainerCreate,
  checkJobExec,
  checkJobNetworkCreate,
  checkJobPull,
  checkJobVolumeCreate,
  classifyJob,
  isJobObject,
  JOB_LABEL,
  jobImageTag,
  scopedName,
  scopeFilters,
  type JobRoute,
  type JobScope,
} from '@runnerhub/docker-guard';
import type { Logger } from '@runnerhub/platform';

/**
 * One job's Docker endpoint (dockerInJob: scoped): a unix socket in the runner's own volume that
 * speaks the Engine API to the docker CLI and the runner, and forwards to the host's Docker only
 * what the job-scope policy (libs/docker-guard job-scope.ts) allows, rewritten so that the object is
 * the job's. What it refuses is answered as Docker answers errors (`{"message": …}`, 403), which the
 * CLI prints as `Error response from daemon: runnerhub job endpoint: …`. Attach and exec start
 * hijack the connection: once the target is found to be the job's, the two sockets are spliced.
 */

export interface JobEndpointSettings {
  scope: JobScope;
  dockerSocket: string;
  /** Where to listen (a unix socket path). */
  socketPath: string;
  log: Logger;
  bodyLimitBytes?: number;
  /** Called with each refusal (what, reason): metrics, tests. */
  onRefuse?: (what: string, reason: string) => void;
}

export interface JobEndpoint {
  readonly scope: JobScope;
  listen(): Promise<void>;
  close(): Promise<void>;
}

const VERSION_PREFIX = /^\/v[0-9]+(\.[0-9]+)?(?=\/)/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

class Refusal extends Error {
  constructor(
    readonly what: string,
    readonly reason: string,
    readonly status = 403,
  ) {
    super(reason);
  }
}

export interface DockerAnswer {
  status: number;
  json: unknown;
}

/** One call to the Docker socket, answered whole. */
export function dockerCall(socketPath: string, method: string, path: string, body?: unknown): Promise<DockerAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = httpRequest({ socketPath, method, path, headers: { host: 'docker', ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = text;
        try {
          json = text ? (JSON.parse(text) as unknown) : null;
        } catch {
          /* plain text answer */
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

type Labels = Record<string, string> | null | undefined;

export function createJobEndpoint(s: JobEndpointSettings): JobEndpoint {
  const { scope } = s;
  const limit = s.bodyLimitBytes ?? 4 * 1024 * 1024;
  const sockets = new Set<Socket>();
  const docker = (method: string, path: string, body?: unknown) => dockerCall(s.dockerSocket, method, path, body);

  const refuse = (res: ServerResponse, what: string, reason: string, status = 403) => {
    s.onRefuse?.(what, reason);
    s.log.warn({ runner: scope.runnerName, route: what, reason }, `job endpoint refused ${what}`);
    sendJson(res, status, { message: `runnerhub job endpoint: ${reason}` });
  };

  /** Forwards the request (its body streamed unless one is given) and streams the answer back. */
  const forward = (req: IncomingMessage, res: ServerResponse, path: string, body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      if (body) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(body.length);
      } else if (req.headers['content-length']) headers['content-length'] = req.headers['content-length'];
      else if (req.headers['transfer-encoding']) headers['transfer-encoding'] = req.headers['transfer-encoding'];
      const up = httpRequest({ socketPath: s.dockerSocket, method: req.method, path, headers: { ...headers, host: 'docker' } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.flushHeaders();
        res.on('close', () => answer.destroy());
        answer.pipe(res);
        answer.on('end', resolve);
      });
      up.on('error', reject);
      if (body) up.end(body);
      else if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') up.end();
      else req.pipe(up);
    });

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new Refusal('body', `the body is larger than ${limit} bytes`, 413);
      chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    try {
      return raw ? (JSON.parse(raw) as unknown) : {};
    } catch {
      throw new Refusal('body', 'the body is not JSON', 400);
    }
  };

  /** The job's objects of one kind, by name: what a create may mount or join. */
  const jobNames = async (kind: 'volumes' | 'networks'): Promise<Set<string>> => {
    const filters = encodeURIComponent(JSON.stringify({ label: [`${JOB_LABEL.of}=${scope.runnerName}`, `${JOB_LABEL.deployment}=${scope.deploymentId}`] }));
    const answer = await docker('GET', `/${kind}?filters=${filters}`);
    if (answer.status !== 200) throw new Error(`docker answered ${answer.status} to the ${kind} list`);
    const list = kind === 'volumes' ? ((answer.json as { Volumes?: Array<{ Name: string }> }).Volumes ?? []) : (answer.json as Array<{ Name: string }>);
    return new Set(list.map((o) => o.Name));
  };

  /** An image of the job's own (built or tagged under the runner) wins over a host image of the same name. */
  const resolveImage = async (reference: string): Promise<string> => {
    const own = jobImageTag(reference, scope);
    if (!own.allow) return reference;
    const answer = await docker('GET', `/images/${encodeURIComponent(own.value)}/json`);
    return answer.status === 200 ? own.value : reference;
  };

  /** The id of a container, network or volume the job names, when it is the job's; null when Docker has none by that name. */
  const resolveObject = async (route: Extract<JobRoute, { kind: 'object' }>): Promise<{ id: string; labels: Labels } | null> => {
    const inspectPath = (id: string) => ({ container: `/containers/${id}/json`, network: `/networks/${id}`, volume: `/volumes/${id}`, exec: `/exec/${id}/json`, image: `/images/${encodeURIComponent(id)}/json` })[route.type];
    const candidates = route.type === 'exec' ? [route.id] : route.type === 'image' ? [...new Set([jobImage(route.id), route.id])] : [...new Set([scopedName(scope, route.id), route.id])];
    for (const id of candidates) {
      if (!id) continue;
      const answer = await docker('GET', inspectPath(id));
      if (answer.status === 404) continue;
      if (answer.status !== 200) throw new Error(`docker answered ${answer.status} to the ${route.type} lookup`);
      const o = answer.json as { Id?: string; Name?: string; ContainerID?: string; Labels?: Labels; Config?: { Labels?: Labels } };
      if (route.type === 'exec') {
        const container = await docker('GET', `/containers/${o.ContainerID ?? ''}/json`);
        const labels = container.status === 200 ? ((container.json as { Config?: { Labels?: Labels } }).Config?.Labels ?? null) : null;
        return { id, labels };
      }
      const labels = route.type === 'container' || route.type === 'image' ? (o.Config?.Labels ?? null) : (o.Labels ?? null);
      return { id: route.type === 'volume' ? (o.Name ?? id) : route.type === 'image' ? id : (o.Id ?? id), labels };
    }
    return null;
  };
  const jobImage = (reference: string): string => {
    const own = jobImageTag(reference, scope);
    return own.allow ? own.value : '';
  };

  /** What an object call is, once its target is known to be the job's: the path to forward. */
  const objectTarget = async (route: Extract<JobRoute, { kind: 'object' }>, version: string, search: string): Promise<string> => {
    const found = await resolveObject(route);
    if (!found) throw new Refusal(route.what, `No such ${route.type}: ${route.id}`, 404);
    // Any image may be read (a job inspects its base images); only the job's are removed.
    const readOnlyImage = route.type === 'image' && route.what === 'image inspect';
    if (!readOnlyImage && !isJobObject(found.labels, scope)) {
      throw new Refusal(route.what, `${route.what} on ${route.type} "${route.id}" refused: it is not this job's (a job sees and touches only what it made)`);
    }
    const id = route.type === 'image' ? encodeURIComponent(found.id) : found.id;
    const plural = route.type === 'exec' ? 'exec' : `${route.type}s`;
    return `${version}/${plural}/${id}${route.rest}${search ? `?${search}` : ''}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const search = q < 0 ? '' : raw.slice(q + 1);
    const query = new URLSearchParams(search);
    const version = VERSION_PREFIX.exec(path)?.[0] ?? '';
    const route = classifyJob(req.method ?? 'GET', path);
    switch (route.kind) {
      case 'refuse':
        return refuse(res, route.what, route.reason);
      case 'pass':
        return forward(req, res, raw);
      case 'list': {
        const filters = scopeFilters(query.get('filters'), scope);
        if (!filters.allow) return refuse(res, route.what, filters.reason, 400);
        query.set('filters', filters.value);
        return forward(req, res, `${path}?${query.toString()}`);
      }
      case 'pull': {
        const d = checkJobPull(query, scope);
        if (!d.allow) return refuse(res, route.what, d.reason);
        return forward(req, res, raw);
      }
      case 'build': {
        const d = checkJobBuild(query, scope);
        if (!d.allow) return refuse(res, route.what, d.reason);
        return forward(req, res, `${path}?${d.value.toString()}`);
      }
      case 'create': {
        const body = await readJson(req);
        if (route.what === 'volume create') {
          const d = checkJobVolumeCreate(body, scope);
          if (!d.allow) return refuse(res, route.what, d.reason);
          return forward(req, res, path, Buffer.from(JSON.stringify(d.value)));
        }
        if (route.what === 'network create') {
          const d = checkJobNetworkCreate(body, scope);
          if (!d.allow) return refuse(res, route.what, d.reason);
          return forward(req, res, path, Buffer.from(JSON.stringify(d.value)));
        }
        const [volumes, networks] = await Promise.all([jobNames('volumes'), jobNames('networks')]);
        networks.add(scope.network);
        const pick = (set: Set<string>) => (name: string) => (set.has(scopedName(scope, name)) ? scopedName(scope, name) : set.has(name) ? name : undefined);
        const image = typeof (body as { Image?: unknown })?.Image === 'string' ? await resolveImage((body as { Image: string }).Image) : undefined;
        const d = checkJobContainerCreate(
          { query: { name: query.get('name'), platform: query.get('platform') }, body, resolveVolume: pick(volumes), resolveNetwork: pick(networks), resolveImage: () => image ?? '' },
          scope,
        );
        if (!d.allow) return refuse(res, route.what, d.reason);
        return forward(req, res, `${version}/containers/create?name=${encodeURIComponent(d.value.name)}`, Buffer.from(JSON.stringify(d.value.body)));
      }
      case 'object': {
        const target = await objectTarget(route, version, search);
        if (route.upgrade) return refuse(res, route.what, 'attach and exec start need a connection upgrade (Upgrade: tcp)', 400);
        if (route.body === 'exec') {
          const body = await readJson(req);
          const d = checkJobExec(body);
          if (!d.allow) return refuse(res, route.what, d.reason);
          return forward(req, res, target, Buffer.from(JSON.stringify(body)));
        }
        return forward(req, res, target);
      }
    }
  };

  const server: Server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof Refusal) {
        if (error.status === 404) return sendJson(res, 404, { message: error.reason });
        return refuse(res, error.what, error.reason, error.status);
      }
      s.log.warn({ err: String(error), runner: scope.runnerName }, 'job endpoint could not reach Docker');
      if (!res.headersSent) sendJson(res, 502, { message: `runnerhub job endpoint: Docker did not answer (${String(error)})` });
      else res.destroy();
    });
  });

  // `docker run` (attached), `docker exec` and `docker attach`: the hijacked stream of the job's own container.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const version = VERSION_PREFIX.exec(path)?.[0] ?? '';
    const route = classifyJob(req.method ?? 'GET', path);
    const fail = (status: number, message: string) => {
      s.onRefuse?.(route.what, message);
      const body = JSON.stringify({ message: `runnerhub job endpoint: ${message}` });
      socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Forbidden'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    if (route.kind !== 'object' || !route.upgrade) return fail(403, route.kind === 'refuse' ? route.reason : `${route.what} is not a connection upgrade`);
    objectTarget(route, version, q < 0 ? '' : raw.slice(q + 1))
      .then((target) => {
        const up = connect(s.dockerSocket);
        sockets.add(up);
        up.on('close', () => sockets.delete(up));
        up.on('error', () => socket.destroy());
        socket.on('error', () => up.destroy());
        const lines = [`${req.method} ${target} HTTP/1.1`, 'Host: docker'];
        for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() !== 'host') lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        up.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length > 0) up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      })
      .catch((error: unknown) => {
        if (error instanceof Refusal) return fail(error.status, error.reason);
        fail(502, `Docker did not answer (${String(error)})`);
      });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  return {
    scope,
    async listen() {
      await rm(s.socketPath, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(s.socketPath, () => resolve());
      });
      // The job's user (any uid in the runner image) must be able to connect; only the runner's own volume holds the socket.
      await chmod(s.socketPath, 0o666);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(s.socketPath, { force: true });
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

