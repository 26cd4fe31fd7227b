import { Type } from '@sinclair/typebox';
import { conflict, notFound, type HttpServer } from '@runnerhub/platform';
import { reportKinds } from './render.js';
import type { ReportRow, Store } from './store.js';

const Report = Type.Object({
  id: Type.String(),
  jobId: Type.String(),
  kind: Type.String(),
  installationId: Type.String(),
  repository: Type.String(),
  headSha: Type.String(),
  pool: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  externalId: Type.String(),
  state: Type.String({ description: 'pending (GitHub does not show it yet), sent, failed (gave up; retry sends it again) or disabled (installation switched off)' }),
  inSync: Type.Boolean({ description: 'GitHub shows the latest content' }),
  checkRunId: Type.Union([Type.String(), Type.Null()]),
  htmlUrl: Type.Union([Type.String(), Type.Null()]),
  title: Type.String(),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  sentAt: Type.Union([Type.String(), Type.Null()]),
});

const ReportWithOutput = Type.Intersect([
  Report,
  Type.Object({
    output: Type.Object({ status: Type.String(), conclusion: Type.Optional(Type.String()), title: Type.String(), summary: Type.String(), text: Type.Optional(Type.String()) }),
  }),
]);

const Id = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) });

function view(r: ReportRow) {
  return {
    id: r.id,
    jobId: r.jobId,
    kind: r.kind,
    installationId: r.installationId,
    repository: `${r.repoOwner}/${r.repoName}`,
    headSha: r.headSha,
    pool: r.pool,
    name: r.name,
    externalId: r.externalId,
    state: r.state,
    inSync: r.sentHash === r.contentHash,
    checkRunId: r.checkRunId,
    htmlUrl: r.htmlUrl,
    title: r.output.output.title,
    attempts: r.attempts,
    lastError: r.lastError,
    nextAttemptAt: r.state === 'pending' ? r.nextAttemptAt.toISOString() : null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    sentAt: r.sentAt ? r.sentAt.toISOString() : null,
  };
}

/** Admin API: reports with their GitHub state, a retry, and installations switched off by a refused permission. */
export function registerReportRoutes(app: HttpServer, deps: { store: Store; wake(): void }): void {
  const { store } = deps;
  app.get(
    '/api/reports',
    {
      schema: {
        summary: 'Reports (check runs RunnerHub writes), most recently changed first',
        querystring: Type.Object({
          state: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('disabled')])),
          kind: Type.Optional(Type.Union(reportKinds.map((k) => Type.Literal(k)))),
          installation: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
          job: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
          pool: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: { 200: Type.Object({ reports: Type.Array(Report) }) },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await store.reports({
        limit: q.limit,
        ...(q.state ? { state: q.state } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.installation ? { installationId: q.installation } : {}),
        ...(q.job ? { jobId: q.job } : {}),
        ...(q.pool ? { pool: q.pool } : {}),
      });
      return { reports: rows.map(view) };
    },
  );

  app.get(
    '/api/reports/:id',
    { schema: { summary: 'One report with the content GitHub is (or will be) shown', params: Id, response: { 200: ReportWithOutput } } },
    async (req) => {
      const r = await store.report(req.params.id);
      if (!r) throw notFound(`no report ${req.params.id}`);
      const o = r.output;
      return {
        ...view(r),
        output: { status: o.status, ...(o.conclusion ? { conclusion: o.conclusion } : {}), title: o.output.title, summary: o.output.summary, ...(o.output.text ? { text: o.output.text } : {}) },
      };
    },
  );

  app.post(
    '/api/reports/:id/retry',
    { schema: { summary: 'Send a report to GitHub again (a failed one, or a sent one whose check run should be rewritten)', params: Id, response: { 202: Report } } },
    async (req, reply) => {
      const outcome = await store.retry(req.params.id);
      if (outcome === 'not_found') throw notFound(`no report ${req.params.id}`);
      if (outcome === 'disabled') throw conflict('reporting is off for this installation: grant the App checks: write, then POST /api/installations/{id}/enable');
      deps.wake();
      const r = await store.report(req.params.id);
      return reply.code(202).send(view(r!));
    },
  );

  app.get(
    '/api/installations/disabled',
    {
      schema: {
        summary: 'Installations whose reporting is off because GitHub refused a permission',
        response: { 200: Type.Object({ installations: Type.Array(Type.Object({ installationId: Type.String(), reason: Type.String(), disabledAt: Type.String() })) }) },
      },
    },
    async () => ({ installations: (await store.disabledInstallations()).map((i) => ({ ...i, disabledAt: i.disabledAt.toISOString() })) }),
  );

  app.post(
    '/api/installations/:id/enable',
    {
      schema: {
        summary: 'Report for an installation again (after granting the App checks: write); its held-back reports are sent',
        params: Id,
        response: { 200: Type.Object({ installationId: Type.String(), requeued: Type.Integer() }) },
      },
    },
    async (req) => {
      const requeued = await store.enableInstallation(req.params.id);
      if (requeued === undefined) throw notFound(`installation ${req.params.id} is not disabled`);
      deps.wake();
      return { installationId: req.params.id, requeued };
    },
  );
}
