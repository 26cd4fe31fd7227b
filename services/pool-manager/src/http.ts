import { Type } from '@sinclair/typebox';
import type { PoolDefinition } from '@runnerhub/contracts';
import type { HttpServer } from '@runnerhub/platform';
import type { Levels } from './inputs.js';
import type { RunnersStore } from './runners-store.js';
import type { Supply } from './supply.js';

/** Admin API: pools with their status, and runners. */
export function registerPoolRoutes(app: HttpServer, deps: { pools(): PoolDefinition[]; runners: RunnersStore; supply: Supply; levels: Levels }): void {
  app.get(
    '/api/pools',
    {
      schema: {
        summary: 'Pools with their runners by state, demand and the last provisioning error',
        response: {
          200: Type.Object({
            pools: Type.Array(
              Type.Object({
                name: Type.String(),
                labels: Type.Array(Type.String()),
                image: Type.String(),
                minIdle: Type.Integer(),
                max: Type.Integer(),
                pending: Type.Integer(),
                runners: Type.Record(Type.String(), Type.Integer()),
                lastError: Type.String(),
                backoffUntil: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      pools: await Promise.all(
        deps.pools().map(async (p) => {
          const state = deps.supply.state(p.name);
          return {
            name: p.name,
            labels: p.labels,
            image: p.image,
            minIdle: p.minIdle,
            max: p.maxRunners,
            pending: deps.levels.pending(p.name),
            runners: { ...(await deps.runners.counts(p.name)) },
            lastError: state.lastError,
            backoffUntil: state.backoffUntil > Date.now() ? new Date(state.backoffUntil).toISOString() : null,
          };
        }),
      ),
    }),
  );
  app.get(
    '/api/runners',
    {
      schema: {
        summary: 'Runners, newest first',
        querystring: Type.Object({ pool: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })), live: Type.Boolean({ default: false }), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }),
        response: {
          200: Type.Object({
            runners: Type.Array(
              Type.Object({ id: Type.String(), name: Type.String(), pool: Type.String(), host: Type.String(), state: Type.String(), githubRunnerId: Type.Union([Type.String(), Type.Null()]), jobId: Type.Union([Type.String(), Type.Null()]), failure: Type.Union([Type.String(), Type.Null()]), requestedAt: Type.String() }),
            ),
          }),
        },
      },
    },
    async (req) => ({
      runners: (await deps.runners.list(req.query)).map((r) => ({ id: r.id, name: r.name, pool: r.pool, host: r.host, state: r.state, githubRunnerId: r.githubRunnerId, jobId: r.jobId, failure: r.failure, requestedAt: r.requestedAt.toISOString() })),
    }),
  );
}
