import { Type } from '@sinclair/typebox';
import { badRequest, conflict, notFound, type HttpServer } from '@runnerhub/platform';
import type { DrainedHosts } from './drained-hosts.js';
import type { Levels } from './inputs.js';
import { CatalogError, type CatalogEntry, type PoolCatalog } from './pool-catalog.js';
import type { RunnerRow, RunnersStore } from './runners-store.js';
import type { Supply } from './supply.js';

/**
 * Admin API: pools (list, inspect, create, update, delete, drain, reload the file), hosts (list,
 * drain) and runners (list, inspect, remove). Pools from POOLS_FILE are read-only here, but can be
 * drained. Every change wakes the reconcile loop, which does the actual work.
 */

export interface PoolRoutesDeps {
  catalog: PoolCatalog;
  drainedHosts: DrainedHosts;
  runners: RunnersStore;
  supply: Supply;
  levels: Levels;
  wake(): void;
}

const PoolName = Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,30}$' }) });
const PoolStatus = Type.Object({
  name: Type.String(),
  source: Type.Union([Type.Literal('file'), Type.Literal('api')]),
  labels: Type.Array(Type.String()),
  image: Type.String(),
  drained: Type.Boolean(),
  minIdle: Type.Integer({ description: 'the default warm minimum' }),
  warmNow: Type.Integer({ description: "the warm minimum held now (a warm schedule or an operator's warm minimum may raise or lower it)" }),
  warm: Type.Union([Type.Object({ min: Type.Integer(), until: Type.Union([Type.String(), Type.Null()]) }), Type.Null()], {
    description: "an operator's warm minimum (PUT /api/pools/{name}/warm), held instead of minIdle and the warm schedules until `until` (null: until cleared)",
  }),
  max: Type.Integer(),
  pending: Type.Integer(),
  running: Type.Integer(),
  runners: Type.Record(Type.String(), Type.Integer()),
  lastError: Type.String(),
  backoffUntil: Type.Union([Type.String(), Type.Null()]),
});
const PoolDetail = Type.Composite([PoolStatus, Type.Object({ spec: Type.Record(Type.String(), Type.Unknown(), { description: 'the pool as in docs/pools.md, defaults filled in' }) })]);
const Runner = Type.Object({
  id: Type.String(),
  name: Type.String(),
  pool: Type.String(),
  host: Type.String(),
  state: Type.String(),
  githubRunnerId: Type.Union([Type.String(), Type.Null()]),
  containerId: Type.Union([Type.String(), Type.Null()]),
  jobId: Type.Union([Type.String(), Type.Null()]),
  failure: Type.Union([Type.String(), Type.Null()], { description: 'why it failed, or why it was removed when a person should know' }),
  requestedAt: Type.String(),
});
const PoolBody = Type.Unknown({ description: 'a pool: the fields of a POOLS_FILE entry as JSON (docs/pools.md); errors name the field' });

function asHttpError(error: unknown): unknown {
  if (!(error instanceof CatalogError)) return error;
  return error.status === 404 ? notFound(error.message) : error.status === 409 ? conflict(error.message) : badRequest(error.message);
}

export function registerPoolRoutes(app: HttpServer, deps: PoolRoutesDeps): void {
  const status = async (entry: CatalogEntry) => {
    const p = entry.definition;
    const state = deps.supply.state(p.name);
    return {
      name: p.name,
      source: entry.source,
      labels: p.labels,
      image: p.image,
      drained: entry.drained,
      minIdle: p.minIdle,
      warmNow: deps.catalog.warmNow(p, new Date()),
      warm: entry.warm && (entry.warm.until === null || entry.warm.until.getTime() > Date.now()) ? { min: entry.warm.min, until: entry.warm.until?.toISOString() ?? null } : null,
      max: p.maxRunners,
      pending: deps.levels.pending(p.name),
      running: deps.levels.running(p.name),
      runners: { ...(await deps.runners.counts(p.name)) },
      lastError: state.lastError,
      backoffUntil: state.backoffUntil > Date.now() ? new Date(state.backoffUntil).toISOString() : null,
    };
  };
  const detail = async (entry: CatalogEntry) => ({ ...(await status(entry)), spec: entry.spec as unknown as Record<string, unknown> });
  const changed = async (work: () => Promise<CatalogEntry>) => {
    try {
      const entry = await work();
      deps.wake();
      return detail(entry);
    } catch (error) {
      throw asHttpError(error);
    }
  };
  const entryOr404 = (name: string): CatalogEntry => {
    const entry = deps.catalog.entry(name);
    if (!entry || entry.deleted) throw notFound(`no pool named ${name}`);
    return entry;
  };

  app.get('/api/pools', { schema: { summary: 'Pools with their runners by state, demand and the last provisioning error', response: { 200: Type.Object({ pools: Type.Array(PoolStatus) }) } } }, async () => ({
    pools: await Promise.all(deps.catalog.entries().map(status)),
  }));
  app.get('/api/pools/:name', { schema: { summary: 'One pool: its definition and status', params: PoolName, response: { 200: PoolDetail } } }, async (req) => detail(entryOr404(req.params.name)));
  app.post('/api/pools', { schema: { summary: 'Create a pool (not one named in POOLS_FILE)', body: PoolBody, response: { 201: PoolDetail } } }, async (req, reply) =>
    reply.code(201).send(await changed(() => deps.catalog.create(req.body))),
  );
  app.put('/api/pools/:name', { schema: { summary: 'Replace a pool created through the API; runners pick up the change as they are replaced', params: PoolName, body: PoolBody, response: { 200: PoolDetail } } }, async (req) =>
    changed(() => deps.catalog.update(req.params.name, req.body)),
  );
  app.delete(
    '/api/pools/:name',
    { schema: { summary: 'Delete a pool created through the API: no new jobs match it, waiting runners go now, busy ones finish', params: PoolName, response: { 202: Type.Object({ deleted: Type.String() }) } } },
    async (req, reply) => {
      try {
        await deps.catalog.delete(req.params.name);
      } catch (error) {
        throw asHttpError(error);
      }
      deps.wake();
      return reply.code(202).send({ deleted: req.params.name });
    },
  );
  app.post('/api/pools/:name/drain', { schema: { summary: 'Drain a pool (file pools too): no new runners, waiting ones go now, busy ones finish', params: PoolName, response: { 200: PoolDetail } } }, async (req) =>
    changed(() => deps.catalog.setDrained(req.params.name, true)),
  );
  app.delete('/api/pools/:name/drain', { schema: { summary: 'Undrain a pool', params: PoolName, response: { 200: PoolDetail } } }, async (req) => changed(() => deps.catalog.setDrained(req.params.name, false)));
  app.put(
    '/api/pools/:name/warm',
    {
      schema: {
        summary: "Hold `min` warm runners in a pool (file pools too) instead of its minIdle and warm schedules, for `seconds` or until cleared; 0 holds none",
        params: PoolName,
        body: Type.Object({ min: Type.Integer({ minimum: 0, maximum: 1000 }), seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400, description: 'how long; absent: until DELETE' })) }, { additionalProperties: false }),
        response: { 200: PoolDetail },
      },
    },
    async (req) => changed(() => deps.catalog.setWarm(req.params.name, req.body.min, req.body.seconds === undefined ? null : new Date(Date.now() + req.body.seconds * 1000))),
  );
  app.delete('/api/pools/:name/warm', { schema: { summary: "Clear an operator's warm minimum: the pool holds its minIdle and warm schedules again", params: PoolName, response: { 200: PoolDetail } } }, async (req) =>
    changed(() => deps.catalog.setWarm(req.params.name, null, null)),
  );
  app.post(
    '/api/pools/reload',
    { schema: { summary: 'Read POOLS_FILE again (also on SIGHUP); an invalid file changes nothing', response: { 200: Type.Object({ pools: Type.Array(Type.String()) }) } } },
    async () => {
      try {
        const pools = await deps.catalog.reloadFile();
        deps.wake();
        return { pools };
      } catch (error) {
        throw badRequest(`POOLS_FILE not reloaded: ${(error as Error).message}`);
      }
    },
  );

  app.get(
    '/api/hosts',
    {
      schema: {
        summary: "Docker hosts from their executors' heartbeats, with their budgets and drain state",
        response: {
          200: Type.Object({
            hosts: Type.Array(
              Type.Object({
                host: Type.String(),
                healthy: Type.Boolean(),
                drained: Type.Boolean({ description: 'drained here (pool-manager)' }),
                draining: Type.Boolean({ description: 'draining at the executor (EXECUTOR drain)' }),
                cpus: Type.Number(),
                reservedCpus: Type.Number(),
                memoryBytes: Type.Number(),
                reservedMemoryBytes: Type.Number(),
                running: Type.Integer(),
                maxContainers: Type.Integer(),
                images: Type.Array(Type.String()),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      hosts: deps.levels.hosts().map((h) => ({
        host: h.host,
        healthy: h.healthy,
        drained: deps.drainedHosts.current().has(h.host),
        draining: h.draining,
        cpus: h.cpus,
        reservedCpus: h.reservedCpus,
        memoryBytes: h.memoryBytes,
        reservedMemoryBytes: h.reservedMemoryBytes,
        running: h.running,
        maxContainers: h.maxContainers,
        images: [...h.images],
      })),
    }),
  );
  const HostName = Type.Object({ host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }) });
  app.post('/api/hosts/:host/drain', { schema: { summary: 'Drain a host: no new runners there, waiting ones go now, busy ones finish', params: HostName, response: { 200: Type.Object({ host: Type.String(), drained: Type.Boolean() }) } } }, async (req) => {
    await deps.drainedHosts.drain(req.params.host);
    deps.wake();
    return { host: req.params.host, drained: true };
  });
  app.delete('/api/hosts/:host/drain', { schema: { summary: 'Undrain a host', params: HostName, response: { 200: Type.Object({ host: Type.String(), drained: Type.Boolean() }) } } }, async (req) => {
    await deps.drainedHosts.undrain(req.params.host);
    deps.wake();
    return { host: req.params.host, drained: false };
  });

  const view = (r: RunnerRow) => ({
    id: r.id,
    name: r.name,
    pool: r.pool,
    host: r.host,
    state: r.state,
    githubRunnerId: r.githubRunnerId,
    containerId: r.containerId,
    jobId: r.jobId,
    failure: r.failure,
    requestedAt: r.requestedAt.toISOString(),
  });
  const RunnerId = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{8}$' }) });
  app.get(
    '/api/runners',
    {
      schema: {
        summary: 'Runners, newest first',
        querystring: Type.Object({ pool: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })), live: Type.Boolean({ default: false }), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }),
        response: { 200: Type.Object({ runners: Type.Array(Runner) }) },
      },
    },
    async (req) => ({ runners: (await deps.runners.list(req.query)).map(view) }),
  );
  app.get('/api/runners/:id', { schema: { summary: 'One runner', params: RunnerId, response: { 200: Runner } } }, async (req) => {
    const runner = await deps.runners.byId(req.params.id);
    if (!runner) throw notFound(`no runner ${req.params.id}`);
    return view(runner);
  });
  app.delete(
    '/api/runners/:id',
    {
      schema: {
        summary: 'Remove a runner: its GitHub registration, then its container. A busy runner is kept unless force=true, which fails its job.',
        params: RunnerId,
        querystring: Type.Object({ force: Type.Boolean({ default: false }) }),
        response: { 202: Runner },
      },
    },
    async (req, reply) => {
      const runner = await deps.runners.byId(req.params.id);
      if (!runner) throw notFound(`no runner ${req.params.id}`);
      if (['finished', 'removed', 'failed'].includes(runner.state)) throw conflict(`runner ${runner.name} is already ${runner.state}`);
      const pool = deps.catalog.entry(runner.pool)?.definition;
      if (!pool) throw conflict(`runner ${runner.name} belongs to pool ${runner.pool}, which no longer exists; the orphan reapers remove it`);
      if (runner.state === 'busy' && !req.query.force) throw conflict(`runner ${runner.name} is running job ${runner.jobId ?? '?'}; pass force=true to stop it (the job fails)`);
      if (!(await deps.supply.remove(pool, runner, req.query.force))) throw conflict(`runner ${runner.name} took a job at GitHub just now; pass force=true to stop it (the job fails)`);
      deps.wake();
      return reply.code(202).send(view((await deps.runners.byId(runner.id)) ?? runner));
    },
  );
}
