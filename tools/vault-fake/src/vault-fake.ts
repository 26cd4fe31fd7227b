import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * A stand-in for HashiCorp Vault that follows its HTTP API for the subset RunnerHub uses: health,
 * AppRole login, token renew/lookup, KV v2 data and metadata. Status codes and `{"errors":[...]}`
 * bodies are Vault's (shared/reference §3). Token lifetimes run on a clock the test controls, and
 * chaos switches answer 503 or drop connections. No Vault server can be installed here; this fake
 * exists only so the real client code (node-vault) is exercised over real HTTP.
 */

export interface AppRoleSpec {
  roleName: string;
  roleId: string;
  secretId: string;
  tokenTtlSec: number;
  tokenMaxTtlSec: number;
  policies: string[];
  /** 0 = unlimited. */
  secretIdNumUses?: number;
}

export interface PolicySpec {
  paths: Array<{ prefix: string; capabilities: Array<'read' | 'create' | 'update' | 'delete' | 'list'> }>;
}

interface Token {
  id: string;
  accessor: string;
  policies: string[];
  ttlSec: number;
  maxExpiresAt: number;
  expiresAt: number;
  renewable: boolean;
  roleName?: string;
}

interface KvVersion {
  data: Record<string, unknown> | null;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

export interface VaultFake {
  url: string;
  rootToken: string;
  stop(): Promise<void>;
  kv: { put(path: string, data: Record<string, unknown>): void; delete(path: string): void };
  addAppRole(spec: AppRoleSpec): void;
  addPolicy(name: string, spec: PolicySpec): void;
  /** Issues a token directly (as `vault token create` would). */
  createToken(o: { policies: string[]; ttlSec: number; maxTtlSec?: number; renewable?: boolean }): string;
  clock: { now(): number; advance(ms: number): void };
  seal(): void;
  unseal(): void;
  chaos: { failNext(count: number, status?: number): void; dropNext(count: number): void };
  requests: Array<{ method: string; path: string; status: number }>;
}

const VERSION = '1.15.6';

export async function startVaultFake(opts: { port?: number; rootToken?: string } = {}): Promise<VaultFake> {
  let offset = 0;
  const now = () => Date.now() + offset;
  const rootToken = opts.rootToken ?? `hvs.${randomBytes(12).toString('hex')}`;
  const tokens = new Map<string, Token>();
  const roles = new Map<string, AppRoleSpec & { uses: number }>();
  const policies = new Map<string, PolicySpec>();
  const kv = new Map<string, { versions: KvVersion[]; currentVersion: number }>();
  const requests: VaultFake['requests'] = [];
  let sealed = false;
  let failNext = 0;
  let failStatus = 503;
  let dropNext = 0;

  tokens.set(rootToken, { id: rootToken, accessor: randomUUID(), policies: ['root'], ttlSec: 0, maxExpiresAt: Infinity, expiresAt: Infinity, renewable: false });

  const issue = (policiesFor: string[], ttlSec: number, maxTtlSec: number, renewable: boolean, roleName?: string): Token => {
    const t: Token = {
      id: `hvs.${randomBytes(16).toString('base64url')}`,
      accessor: randomUUID(),
      policies: ['default', ...policiesFor],
      ttlSec,
      expiresAt: now() + ttlSec * 1000,
      maxExpiresAt: now() + maxTtlSec * 1000,
      renewable,
      ...(roleName ? { roleName } : {}),
    };
    tokens.set(t.id, t);
    return t;
  };

  const app = Fastify({ logger: false });
  // Vault accepts JSON bodies with any or no content type; merge-patch is JSON too.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, {});
    try {
      done(null, JSON.parse(body as string));
    } catch {
      const err = new Error('failed to parse JSON input') as Error & { statusCode: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });

  const errors = (reply: FastifyReply, status: number, ...messages: string[]) => reply.code(status).send({ errors: messages });

  app.addHook('onRequest', async (req, reply) => {
    if (dropNext > 0) {
      dropNext--;
      req.raw.socket.destroy();
      return reply;
    }
    if (failNext > 0) {
      failNext--;
      return errors(reply, failStatus, failStatus === 503 ? 'Vault is sealed' : 'internal error');
    }
    if (sealed && !req.url.startsWith('/v1/sys/health')) return errors(reply, 503, 'Vault is sealed');
  });
  app.addHook('onResponse', async (req, reply) => {
    requests.push({ method: req.method, path: req.url.split('?')[0]!, status: reply.statusCode });
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => errors(reply, err.statusCode ?? 500, err.message));
  app.setNotFoundHandler((_req, reply) => errors(reply, 404));

  const tokenOf = (req: FastifyRequest): Token | undefined => {
    const header = (req.headers['x-vault-token'] as string | undefined) ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const t = header ? tokens.get(header) : undefined;
    if (!t) return undefined;
    if (t.expiresAt <= now()) {
      tokens.delete(t.id);
      return undefined;
    }
    return t;
  };

  const allowed = (t: Token, path: string, capability: PolicySpec['paths'][number]['capabilities'][number]) =>
    t.policies.includes('root') ||
    t.policies.some((p) => policies.get(p)?.paths.some((rule) => path.startsWith(rule.prefix) && rule.capabilities.includes(capability)));

  /** 403 "permission denied" for a missing, unknown or expired token, or a path outside its policies. */
  const authorize = (req: FastifyRequest, reply: FastifyReply, path?: string, capability?: PolicySpec['paths'][number]['capabilities'][number]) => {
    const t = tokenOf(req);
    if (!t || (path && capability && !allowed(t, path, capability))) {
      void errors(reply, 403, 'permission denied');
      return undefined;
    }
    return t;
  };

  const ttlLeft = (t: Token) => (t.expiresAt === Infinity ? 0 : Math.max(0, Math.round((t.expiresAt - now()) / 1000)));
  const authBody = (t: Token, warnings?: string[]) => ({
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: warnings ?? null,
    auth: {
      client_token: t.id,
      accessor: t.accessor,
      policies: t.policies,
      token_policies: t.policies,
      metadata: t.roleName ? { role_name: t.roleName } : null,
      lease_duration: ttlLeft(t),
      renewable: t.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: true,
    },
  });

  app.get('/v1/sys/health', async (_req, reply) =>
    reply.code(sealed ? 503 : 200).send({ initialized: true, sealed, standby: false, performance_standby: false, version: VERSION, server_time_utc: Math.floor(now() / 1000) }),
  );

  app.route({
    method: ['POST', 'PUT'],
    url: '/v1/auth/approle/login',
    handler: async (req, reply) => {
      const body = (req.body ?? {}) as { role_id?: string; secret_id?: string };
      if (!body.role_id) return errors(reply, 400, 'missing role_id');
      const role = [...roles.values()].find((r) => r.roleId === body.role_id);
      if (!body.secret_id) return errors(reply, 400, 'missing secret_id');
      if (!role || role.secretId !== body.secret_id || (role.secretIdNumUses && role.uses >= role.secretIdNumUses)) {
        return errors(reply, 400, 'invalid role or secret ID');
      }
      role.uses++;
      const t = issue(role.policies, role.tokenTtlSec, role.tokenMaxTtlSec, true, role.roleName);
      return authBody(t);
    },
  });

  app.route({
    method: ['POST', 'PUT'],
    url: '/v1/auth/token/renew-self',
    handler: async (req, reply) => {
      const t = authorize(req, reply);
      if (!t) return reply;
      if (!t.renewable) return errors(reply, 400, 'lease is not renewable');
      const increment = Number((req.body as { increment?: number | string } | undefined)?.increment ?? 0) || t.ttlSec;
      const wanted = now() + increment * 1000;
      const capped = wanted > t.maxExpiresAt;
      t.expiresAt = Math.min(wanted, t.maxExpiresAt);
      return authBody(t, capped ? [`TTL of "${increment}s" exceeded the effective max_ttl; TTL value is capped accordingly`] : undefined);
    },
  });

  app.get('/v1/auth/token/lookup-self', async (req, reply) => {
    const t = authorize(req, reply);
    if (!t) return reply;
    return {
      request_id: randomUUID(),
      data: {
        accessor: t.accessor,
        policies: t.policies,
        ttl: ttlLeft(t),
        renewable: t.renewable,
        expire_time: t.expiresAt === Infinity ? null : new Date(t.expiresAt).toISOString(),
        id: t.id,
      },
    };
  });

  const kvMeta = (path: string, version: number, v: KvVersion) => ({
    created_time: v.created_time,
    custom_metadata: null,
    deletion_time: v.deletion_time,
    destroyed: v.destroyed,
    version,
  });

  app.get('/v1/secret/data/*', async (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    if (!authorize(req, reply, `secret/data/${path}`, 'read')) return reply;
    const entry = kv.get(path);
    if (!entry) return errors(reply, 404);
    const wanted = Number((req.query as { version?: string }).version ?? 0) || entry.currentVersion;
    const v = entry.versions[wanted - 1];
    if (!v) return errors(reply, 404);
    const body = { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data: { data: v.data, metadata: kvMeta(path, wanted, v) }, wrap_info: null, warnings: null };
    // A deleted or destroyed version answers 404 but still carries its metadata (Vault does this).
    if (v.data === null) return reply.code(404).send({ ...body, data: { data: null, metadata: kvMeta(path, wanted, v) } });
    return body;
  });

  app.route({
    method: ['POST', 'PUT'],
    url: '/v1/secret/data/*',
    handler: async (req, reply) => {
      const path = (req.params as { '*': string })['*'];
      if (!authorize(req, reply, `secret/data/${path}`, 'update')) return reply;
      const body = (req.body ?? {}) as { data?: Record<string, unknown>; options?: { cas?: number } };
      if (!body.data || typeof body.data !== 'object') return errors(reply, 400, 'no data provided');
      const entry = kv.get(path) ?? { versions: [], currentVersion: 0 };
      if (body.options?.cas !== undefined && body.options.cas !== entry.currentVersion) {
        return errors(reply, 400, 'check-and-set parameter did not match the current version');
      }
      const v: KvVersion = { data: body.data, created_time: new Date(now()).toISOString(), deletion_time: '', destroyed: false };
      entry.versions.push(v);
      entry.currentVersion = entry.versions.length;
      kv.set(path, entry);
      return { request_id: randomUUID(), data: kvMeta(path, entry.currentVersion, v) };
    },
  });

  app.delete('/v1/secret/data/*', async (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    if (!authorize(req, reply, `secret/data/${path}`, 'delete')) return reply;
    const entry = kv.get(path);
    const v = entry?.versions[entry.currentVersion - 1];
    if (v) {
      v.data = null;
      v.deletion_time = new Date(now()).toISOString();
    }
    return reply.code(204).send();
  });

  app.get('/v1/secret/metadata/*', async (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    const list = (req.query as { list?: string }).list === 'true';
    if (!authorize(req, reply, `secret/metadata/${path}`, list ? 'list' : 'read')) return reply;
    if (list) return listKeys(path, reply);
    const entry = kv.get(path);
    if (!entry) return errors(reply, 404);
    return {
      request_id: randomUUID(),
      data: {
        current_version: entry.currentVersion,
        versions: Object.fromEntries(entry.versions.map((v, i) => [String(i + 1), { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed }])),
      },
    };
  });
  // Vault also accepts the LIST verb here; Node's HTTP parser cannot read it, so this fake serves
  // only the equivalent `GET ?list=true` (node-vault sends that with `noCustomHTTPVerbs`).

  function listKeys(prefix: string, reply: FastifyReply) {
    const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    const keys = new Set<string>();
    for (const p of kv.keys()) {
      if (!p.startsWith(base)) continue;
      const rest = p.slice(base.length);
      const slash = rest.indexOf('/');
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    if (keys.size === 0) return errors(reply, 404);
    return { request_id: randomUUID(), data: { keys: [...keys].sort() } };
  }

  const address = await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });

  return {
    url: address,
    rootToken,
    stop: () => app.close(),
    kv: {
      put(path, data) {
        const entry = kv.get(path) ?? { versions: [], currentVersion: 0 };
        entry.versions.push({ data, created_time: new Date(now()).toISOString(), deletion_time: '', destroyed: false });
        entry.currentVersion = entry.versions.length;
        kv.set(path, entry);
      },
      delete(path) {
        kv.delete(path);
      },
    },
    addAppRole(spec) {
      roles.set(spec.roleName, { ...spec, uses: 0 });
    },
    addPolicy(name, spec) {
      policies.set(name, spec);
    },
    createToken(o) {
      return issue(o.policies, o.ttlSec, o.maxTtlSec ?? o.ttlSec * 24, o.renewable ?? true).id;
    },
    clock: {
      now,
      advance(ms) {
        offset += ms;
      },
    },
    seal() {
      sealed = true;
    },
    unseal() {
      sealed = false;
    },
    chaos: {
      failNext(count, status = 503) {
        failNext = count;
        failStatus = status;
      },
      dropNext(count) {
        dropNext = count;
      },
    },
    requests,
  };
}
