import { Type } from '@sinclair/typebox';
import { notFound, type HttpServer } from '@runnerhub/platform';
import type { jobsQueries } from './jobs.js';
import type { PoolDirectory } from './pools.js';
import { explain } from './why.js';

const Job = Type.Object({
  jobId: Type.String(),
  repo: Type.String(),
  workflowName: Type.String(),
  jobName: Type.String(),
  labels: Type.Array(Type.String()),
  status: Type.String(),
  conclusion: Type.Union([Type.String(), Type.Null()]),
  match: Type.String({ description: 'matched, unmatched (no pool can serve it) or not_ours (GitHub-hosted labels)' }),
  pool: Type.Union([Type.String(), Type.Null()]),
  matchDetail: Type.Union([Type.String(), Type.Null()]),
  runnerName: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  completedAt: Type.Union([Type.String(), Type.Null()]),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Admin API: the scheduler's jobs. */
export function registerJobRoutes(app: HttpServer, jobs: ReturnType<typeof jobsQueries>, pools: PoolDirectory): void {
  app.get(
    '/api/jobs',
    {
      schema: {
        summary: 'Jobs, newest first',
        querystring: Type.Object({
          status: Type.Optional(Type.String({ pattern: '^[a-z_]+$' })),
          pool: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: { 200: Type.Object({ jobs: Type.Array(Job) }) },
      },
    },
    async (req) => ({
      jobs: (await jobs.list(req.query)).map((j) => ({ ...j, createdAt: iso(j.createdAt), startedAt: iso(j.startedAt), completedAt: iso(j.completedAt) })),
    }),
  );
  app.get(
    '/api/jobs/:jobId',
    {
      schema: {
        summary: 'One job with the time of each transition',
        params: Type.Object({ jobId: Type.String({ pattern: '^[0-9]{1,20}$' }) }),
        response: { 200: Type.Intersect([Job, Type.Object({ transitions: Type.Array(Type.Object({ transition: Type.String(), at: Type.String() })) })]) },
      },
    },
    async (req) => {
      const j = await jobs.get(req.params.jobId);
      if (!j) throw notFound(`no job ${req.params.jobId}`);
      return { ...j, createdAt: iso(j.createdAt), startedAt: iso(j.startedAt), completedAt: iso(j.completedAt), transitions: j.transitions.map((t) => ({ ...t, at: t.at.toISOString() })) };
    },
  );

  app.get(
    '/api/jobs/:jobId/why',
    {
      schema: {
        summary: 'Why is this job still queued: a structured answer and one sentence for a person',
        params: Type.Object({ jobId: Type.String({ pattern: '^[0-9]{1,20}$' }) }),
        response: {
          200: Type.Object({
            reason: Type.String(),
            detail: Type.String(),
            closestPools: Type.Array(Type.Object({ pool: Type.String(), missing: Type.Array(Type.String()) })),
            since: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (req) => {
      const j = await jobs.get(req.params.jobId);
      if (!j) throw notFound(`no job ${req.params.jobId}: the scheduler has not heard of it (yet)`);
      return explain(j, pools.current());
    },
  );
}
