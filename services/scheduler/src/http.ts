import { Type } from '@sinclair/typebox';
import { notFound, unavailable, type HttpServer } from '@runnerhub/platform';
import { currentLevels, diagnose, type DiagnoseDeps } from './diagnose.js';
import type { jobsQueries } from './jobs.js';
import type { ReconcileSummary } from './reconciler.js';
import type { Caps } from './rules.js';

const Job = Type.Object({
  jobId: Type.String(),
  repo: Type.String(),
  workflowName: Type.String(),
  jobName: Type.String(),
  labels: Type.Array(Type.String()),
  status: Type.String(),
  conclusion: Type.Union([Type.String(), Type.Null()]),
  match: Type.String({ description: 'matched, unmatched (no pool can serve it), refused (a public repository or a fork\'s pull request no pool allows) or not_ours (GitHub-hosted labels)' }),
  pool: Type.Union([Type.String(), Type.Null()]),
  matchDetail: Type.Union([Type.String(), Type.Null()]),
  runnerName: Type.Union([Type.String(), Type.Null()]),
  priority: Type.String({ description: 'critical, high, normal or low, from SCHEDULER_RULES_FILE' }),
  foundBy: Type.String({ description: 'webhook, or reconciler when no webhook told us about the job' }),
  createdAt: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  completedAt: Type.Union([Type.String(), Type.Null()]),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const view = <T extends { createdAt: Date | null; startedAt: Date | null; completedAt: Date | null; installationId?: unknown; organization?: unknown }>(j: T) => {
  const { installationId: _installation, organization: _organization, ...rest } = j;
  return { ...rest, createdAt: iso(j.createdAt), startedAt: iso(j.startedAt), completedAt: iso(j.completedAt) };
};

export interface JobRoutesDeps {
  jobs: ReturnType<typeof jobsQueries>;
  diagnose: DiagnoseDeps;
  caps: Caps;
  /** Absent without a GitHub App. */
  reconcileNow: (() => Promise<ReconcileSummary>) | undefined;
}

/** Admin API: jobs, one job with its history, why it waits, demand per pool, the missed-job reconciler. */
export function registerJobRoutes(app: HttpServer, deps: JobRoutesDeps): void {
  const { jobs } = deps;
  app.get(
    '/api/jobs',
    {
      schema: {
        summary: 'Jobs, newest first',
        querystring: Type.Object({
          status: Type.Optional(Type.String({ pattern: '^[a-z_]+$' })),
          pool: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
          repo: Type.Optional(Type.String({ pattern: '^[^/\\s]+/[^/\\s]+$', description: 'owner/name' })),
          match: Type.Optional(Type.Union([Type.Literal('matched'), Type.Literal('unmatched'), Type.Literal('refused'), Type.Literal('not_ours')])),
          priority: Type.Optional(Type.Union([Type.Literal('critical'), Type.Literal('high'), Type.Literal('normal'), Type.Literal('low')])),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: { 200: Type.Object({ jobs: Type.Array(Job) }) },
      },
    },
    async (req) => ({ jobs: (await jobs.list(req.query)).map(view) }),
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
      return { ...view(j), transitions: j.transitions.map((t) => ({ ...t, at: t.at.toISOString() })) };
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
            lastError: Type.Union([Type.String(), Type.Null()]),
            since: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (req) => {
      const j = await jobs.get(req.params.jobId);
      if (!j) throw notFound(`no job ${req.params.jobId}: the scheduler has not heard of it (yet)`);
      return diagnose(deps.diagnose, j);
    },
  );

  app.get(
    '/api/demand',
    {
      schema: {
        summary: 'Demand per pool as the pool-manager gets it: pending jobs by class, jobs held back by caps, running jobs',
        response: {
          200: Type.Object({
            pools: Type.Array(
              Type.Object({
                pool: Type.String(),
                pending: Type.Object({ critical: Type.Integer(), high: Type.Integer(), normal: Type.Integer(), low: Type.Integer() }),
                overCap: Type.Integer(),
                running: Type.Integer(),
                oldestPendingAt: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async () => {
      const levels = await currentLevels({ db: deps.diagnose.db, rules: deps.diagnose.rules });
      const names = [...new Set([...deps.diagnose.pools.current().map((p) => p.name), ...levels.pools.keys()])].sort();
      return {
        pools: names.map((pool) => {
          const l = levels.pools.get(pool);
          return {
            pool,
            pending: l?.pending ?? { critical: 0, high: 0, normal: 0, low: 0 },
            overCap: l?.overCap ?? 0,
            running: l?.running ?? 0,
            oldestPendingAt: l?.oldestPendingAt !== undefined ? new Date(l.oldestPendingAt).toISOString() : null,
          };
        }),
      };
    },
  );

  app.post(
    '/api/reconciler/run',
    {
      schema: {
        summary: "Run the missed-job reconciler now (waits for a running cycle first): compare GitHub's queued runs and jobs with ours",
        response: {
          200: Type.Object({
            repositories: Type.Integer(),
            runs: Type.Integer(),
            jobsSeen: Type.Integer(),
            found: Type.Integer({ description: 'queued jobs no webhook told us about' }),
            advanced: Type.Integer({ description: 'known jobs GitHub says started or completed' }),
            checked: Type.Integer({ description: 'waiting jobs asked about one by one' }),
            stoppedBy: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async () => {
      if (!deps.reconcileNow) throw unavailable('no GitHub App is configured (GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY): the reconciler needs the App');
      return deps.reconcileNow();
    },
  );
}
