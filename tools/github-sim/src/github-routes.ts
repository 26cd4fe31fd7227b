import type { SimDelivery } from './api.js';
import type { SimClock } from './clock.js';
import { GitHubHttpError, notFound } from './errors.js';
import { encodeJitConfig } from './jit-config.js';
import type { RateLimiter } from './rate-limits.js';
import {
  appObject,
  checkRunObject,
  installationObject,
  jobObject,
  fullRepositoryObject,
  repositoryObject,
  runState,
  runnerObject,
  workflowRunObject,
  type AppInfo,
} from './representations.js';
import type { RestAnswer, RestContext, RestRoute } from './rest.js';
import { isoSeconds } from './templates.js';
import type { AppManifests, PendingManifest } from './app-manifests.js';
import type { ScaleSets } from './scale-sets.js';
import type { WebhookSender } from './webhooks.js';
import type { Installation, Repo, Runner, World } from './world.js';

/** The REST subset libs/github uses, answered from the simulated world (github-contract.md §4–§10). */

export interface GitHubRouteDependencies {
  world: World;
  clock: SimClock;
  limiter: RateLimiter;
  webhooks: WebhookSender;
  app: AppInfo;
  /** Base URL for URLs inside answers. */
  web: () => string;
  /** `ServerUrl` handed to runners in JIT configs. */
  runnerUrl: () => string;
  scaleSets: ScaleSets;
  manifests: AppManifests;
  /** Gives the simulator's App what a converted manifest says; answers its new secrets and key. */
  adoptManifest: (pending: PendingManifest) => { clientSecret: string; webhookSecret: string; pem: string };
}

const ok = (body: unknown, headers?: Record<string, string>): RestAnswer => ({ status: 200, body, headers });

/** page/per_page slicing with GitHub's Link header. */
function paginate<T>(ctx: RestContext, items: T[]): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query['per_page'] ?? 30)));
  const page = Math.max(1, Number(ctx.query['page'] ?? 1));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number): string => {
    const url = new URL(ctx.requestUrl);
    url.searchParams.set('per_page', String(perPage));
    url.searchParams.set('page', String(p));
    return `<${url.toString()}>`;
  };
  const links: string[] = [];
  if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
  if (page > 1) links.push(`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`);
  return { page: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : {} };
}

/** A `hook-delivery-item`, as the deliveries list shows it. */
function deliveryItem(d: SimDelivery): Record<string, unknown> {
  return {
    id: d.id,
    guid: d.guid,
    delivered_at: d.deliveredAt,
    redelivery: d.redelivery,
    duration: d.duration,
    status: d.status,
    status_code: d.statusCode,
    event: d.event,
    action: d.action,
    installation_id: d.installationId,
    repository_id: d.repositoryId,
  };
}

export function githubRoutes(deps: GitHubRouteDependencies): RestRoute[] {
  const { world } = deps;
  const web = deps.web;

  /** The repo of `{owner}/{repo}`, if the token's installation can see it. */
  const repoOf = (ctx: RestContext): Repo => {
    const repo = world.repo(`${ctx.params['owner']}/${ctx.params['repo']}`);
    if (!repo || (ctx.installation && repo.installationId !== ctx.installation.id)) throw notFound();
    return repo;
  };
  const orgOf = (ctx: RestContext): Installation => {
    const installation = ctx.installation;
    const org = ctx.params['org'] ?? '';
    if (!installation || installation.account.type !== 'Organization' || installation.account.login.toLowerCase() !== org.toLowerCase()) {
      throw notFound();
    }
    return installation;
  };
  const installationById = (id: string | undefined): Installation => {
    const installation = world.installations.get(Number(id));
    if (!installation) throw notFound();
    return installation;
  };
  const repoRunnerPermission = (ctx: RestContext, write: boolean): ['administration', 'read' | 'write'] => ['administration', write ? 'write' : 'read'];
  const orgRunnerPermission = (write: boolean) => (): ['organization_self_hosted_runners', 'read' | 'write'] => [
    'organization_self_hosted_runners',
    write ? 'write' : 'read',
  ];

  const jitConfig = (runner: Runner): string =>
    encodeJitConfig(runner, { web: web(), runnerUrl: deps.runnerUrl(), groupName: world.groupName(runner) });

  const generateJit = (ctx: RestContext, scope: { repository?: string; org?: string }): RestAnswer => {
    const body = ctx.body ?? {};
    deps.limiter.spendJit();
    const runner = world.createJitRunner({
      ...scope,
      name: body['name'] as string,
      labels: body['labels'] as string[],
      runnerGroupId: body['runner_group_id'] as number,
      workFolder: body['work_folder'] as string | undefined,
    });
    return { status: 201, body: { runner: runnerObject(runner), encoded_jit_config: jitConfig(runner) } };
  };

  const registrationToken = (installation: Installation, repo: Repo | null): RestAnswer => {
    const issued = deps.scaleSets.issueRegistrationToken({ installation, repo });
    return { status: 201, body: { token: issued.token, expires_at: isoSeconds(issued.expiresAt) } };
  };

  const listRunners = (ctx: RestContext, runners: Runner[]): RestAnswer => {
    const name = ctx.query['name'];
    const matching = name ? runners.filter((r) => r.name === name) : runners;
    const { page, headers } = paginate(ctx, matching);
    return ok({ total_count: matching.length, runners: page.map(runnerObject) }, headers);
  };

  const findRunner = (runners: Runner[], id: string | undefined): Runner => {
    const runner = runners.find((r) => r.id === Number(id));
    if (!runner) throw notFound();
    return runner;
  };

  const routes: RestRoute[] = [
    // --- App (JWT) ------------------------------------------------------------------------------
    {
      method: 'GET',
      path: '/app',
      auth: 'jwt',
      handle: () => ok(appObject(web(), deps.app, { login: 'runnerhub', id: 1, type: 'Organization' })),
    },
    {
      method: 'GET',
      path: '/app/installations',
      auth: 'jwt',
      handle: (ctx) => {
        const all = [...world.installations.values()].sort((a, b) => a.id - b.id);
        const { page, headers } = paginate(ctx, all);
        return ok(page.map((i) => installationObject(web(), deps.app, i)), headers);
      },
    },
    {
      method: 'GET',
      path: '/app/installations/{installation_id}',
      auth: 'jwt',
      handle: (ctx) => ok(installationObject(web(), deps.app, installationById(ctx.params['installation_id']))),
    },
    {
      method: 'GET',
      path: '/repos/{owner}/{repo}/installation',
      auth: 'jwt',
      handle: (ctx) => {
        const repo = repoOf(ctx);
        return ok(installationObject(web(), deps.app, installationById(String(repo.installationId))));
      },
    },
    {
      method: 'GET',
      path: '/orgs/{org}/installation',
      auth: 'jwt',
      handle: (ctx) => {
        const installation = world.installationOf(ctx.params['org'] ?? '');
        if (!installation || installation.account.type !== 'Organization') throw notFound();
        return ok(installationObject(web(), deps.app, installation));
      },
    },
    {
      method: 'GET',
      path: '/users/{username}/installation',
      auth: 'jwt',
      handle: (ctx) => {
        const installation = world.installationOf(ctx.params['username'] ?? '');
        if (!installation) throw notFound();
        return ok(installationObject(web(), deps.app, installation));
      },
    },
    {
      method: 'POST',
      path: '/app/installations/{installation_id}/access_tokens',
      auth: 'jwt',
      handle: (ctx) => {
        const installation = installationById(ctx.params['installation_id']);
        const requested = ctx.body?.['permissions'] as Record<string, 'read' | 'write'> | undefined;
        const issued = world.issueToken(installation.id, requested);
        return {
          status: 201,
          body: {
            token: issued.token,
            expires_at: isoSeconds(issued.expiresAt),
            permissions: issued.permissions,
            repository_selection: installation.repositorySelection,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/app/hook/deliveries',
      auth: 'jwt',
      handle: (ctx) => {
        const perPage = Math.min(100, Math.max(1, Number(ctx.query['per_page'] ?? 30)));
        const status = ctx.query['status'];
        let items = deps.webhooks.deliveries();
        if (status === 'success') items = items.filter((d) => d.statusCode >= 200 && d.statusCode < 400);
        if (status === 'failure') items = items.filter((d) => d.statusCode < 200 || d.statusCode >= 400);
        const cursor = ctx.query['cursor'];
        if (cursor) {
          const before = Number(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^v1:/, ''));
          if (!Number.isFinite(before)) throw new GitHubHttpError(400, 'Bad request: cursor is invalid');
          items = items.filter((d) => d.id < before);
        }
        const page = items.slice(0, perPage);
        const headers: Record<string, string> = {};
        if (items.length > perPage && page.length > 0) {
          const next = new URL(ctx.requestUrl);
          next.searchParams.set('per_page', String(perPage));
          next.searchParams.set('cursor', Buffer.from(`v1:${page[page.length - 1]!.id}`).toString('base64url'));
          headers['link'] = `<${next.toString()}>; rel="next"`;
        }
        return ok(
          page.map(deliveryItem),
          headers,
        );
      },
    },
    {
      method: 'GET',
      path: '/app/hook/deliveries/{delivery_id}',
      auth: 'jwt',
      handle: (ctx) => {
        const d = deps.webhooks.deliveries().find((x) => x.id === Number(ctx.params['delivery_id']));
        if (!d) throw notFound();
        return ok({
          ...deliveryItem(d),
          url: '',
          request: { headers: d.requestHeaders, payload: d.payload },
          response: { headers: { 'Content-Type': 'text/plain' }, payload: d.responseBody },
        });
      },
    },
    {
      method: 'POST',
      path: '/app/hook/deliveries/{delivery_id}/attempts',
      auth: 'jwt',
      handle: (ctx) => {
        if (!deps.webhooks.redeliver(Number(ctx.params['delivery_id']))) {
          throw new GitHubHttpError(422, 'Validation Failed: the delivery does not exist or is older than 3 days');
        }
        return { status: 202, body: {} };
      },
    },

    // --- installation token ---------------------------------------------------------------------
    {
      method: 'GET',
      path: '/installation/repositories',
      auth: 'installation',
      handle: (ctx) => {
        const installation = ctx.installation!;
        const { page, headers } = paginate(ctx, installation.repos);
        return ok(
          {
            total_count: installation.repos.length,
            repository_selection: installation.repositorySelection,
            repositories: page.map((r) => repositoryObject(web(), r)),
          },
          headers,
        );
      },
    },
    {
      method: 'POST',
      path: '/repos/{owner}/{repo}/actions/runners/generate-jitconfig',
      auth: 'installation',
      permission: (ctx) => repoRunnerPermission(ctx, true),
      handle: (ctx) => generateJit(ctx, { repository: repoOf(ctx).fullName }),
    },
    {
      method: 'POST',
      path: '/orgs/{org}/actions/runners/generate-jitconfig',
      auth: 'installation',
      permission: orgRunnerPermission(true),
      handle: (ctx) => generateJit(ctx, { org: orgOf(ctx).account.login }),
    },
    {
      // The first step of the scale-set auth chain (scale-set-protocol.md §1): a registration token
      // is what POST /actions/runner-registration takes (RemoteAuth).
      method: 'POST',
      path: '/repos/{owner}/{repo}/actions/runners/registration-token',
      auth: 'installation',
      permission: (ctx) => repoRunnerPermission(ctx, true),
      handle: (ctx) => registrationToken(ctx.installation!, repoOf(ctx)),
    },
    {
      method: 'POST',
      path: '/orgs/{org}/actions/runners/registration-token',
      auth: 'installation',
      permission: orgRunnerPermission(true),
      handle: (ctx) => registrationToken(orgOf(ctx), null),
    },
    {
      method: 'GET',
      path: '/repos/{owner}/{repo}/actions/runners',
      auth: 'installation',
      permission: (ctx) => repoRunnerPermission(ctx, false),
      handle: (ctx) => listRunners(ctx, world.runnersOf({ repo: repoOf(ctx) })),
    },
    {
      method: 'GET',
      path: '/orgs/{org}/actions/runners',
      auth: 'installation',
      permission: orgRunnerPermission(false),
      handle: (ctx) => listRunners(ctx, world.runnersOf({ org: orgOf(ctx).account.login })),
    },
    {
      method: 'GET',
      path: '/repos/{owner}/{repo}/actions/runners/{runner_id}',
      auth: 'installation',
      permission: (ctx) => repoRunnerPermission(ctx, false),
      handle: (ctx) => ok(runnerObject(findRunner(world.runnersOf({ repo: repoOf(ctx) }), ctx.params['runner_id']))),
    },
    {
      method: 'GET',
      path: '/orgs/{org}/actions/runners/{runner_id}',
      auth: 'installation',
      permission: orgRunnerPermission(false),
      handle: (ctx) => ok(runnerObject(findRunner(world.runnersOf({ org: orgOf(ctx).account.login }), ctx.params['runner_id']))),
    },
    {
      method: 'DELETE',
      path: '/repos/{owner}/{repo}/actions/runners/{runner_id}',
      auth: 'installation',
      permission: (ctx) => repoRunnerPermission(ctx, true),
      handle: (ctx) => {
        world.deleteRunner(findRunner(world.runnersOf({ repo: repoOf(ctx) }), ctx.params['runner_id']));
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/orgs/{org}/actions/runners/{runner_id}',
      auth: 'installation',
      permission: orgRunnerPermission(true),
      handle: (ctx) => {
        world.deleteRunner(findRunner(world.runnersOf({ org: orgOf(ctx).account.login }), ctx.params['runner_id']));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/orgs/{org}/actions/runner-groups',
      auth: 'installation',
      permission: orgRunnerPermission(false),
      handle: (ctx) => {
        const installation = orgOf(ctx);
        const groups = world.runnerGroups(installation, null);
        const { page, headers } = paginate(ctx, groups);
        return ok(
          {
            total_count: groups.length,
            runner_groups: page.map((group) => {
              const base = `${web()}/orgs/${installation.account.login}/actions/runner-groups/${group.id}`;
              return {
                id: group.id,
                name: group.name,
                visibility: 'all',
                default: group.isDefault,
                runners_url: `${base}/runners`,
                inherited: false,
                allows_public_repositories: group.allowsPublicRepositories,
                restricted_to_workflows: false,
                selected_workflows: [],
                workflow_restrictions_read_only: false,
              };
            }),
          },
          headers,
        );
      },
    },
    {
      method: 'GET',
      path: '/repos/{owner}/{repo}',
      auth: 'installation',
      permission: () => ['metadata', 'read'],
      handle: (ctx) => ok(fullRepositoryObject(web(), repoOf(ctx))),
    },
    {
      method: 'POST',
      path: '/repos/{owner}/{repo}/check-runs',
      auth: 'installation',
      permission: () => ['checks', 'write'],
      handle: (ctx) => {
        const repo = repoOf(ctx);
        const id = world.nextCheckRunId();
        const fields = { ...(ctx.body ?? {}), repoId: repo.id };
        world.checkRuns.set(id, fields);
        return { status: 201, body: checkRunObject(web(), deps.app, repo.owner, repo, fields, id, deps.clock.now()) };
      },
    },
    {
      method: 'PATCH',
      path: '/repos/{owner}/{repo}/check-runs/{check_run_id}',
      auth: 'installation',
      permission: () => ['checks', 'write'],
      handle: (ctx) => {
        const repo = repoOf(ctx);
        const id = Number(ctx.params['check_run_id']);
        const existing = world.checkRuns.get(id);
        if (!existing || existing['repoId'] !== repo.id) throw notFound();
        const update = ctx.body ?? {};
        if (update['status'] === 'completed' && !update['conclusion'] && !existing['conclusion']) {
          throw new GitHubHttpError(422, 'Invalid request.\n\nNo conclusion given for a completed check run.');
        }
        const previous = (existing['output'] ?? {}) as { annotations?: unknown[] };
        const next = update['output'] as { annotations?: unknown[] } | undefined;
        // Annotations sent on updates are appended (github-contract.md §7).
        const annotations = [...(previous.annotations ?? []), ...(next?.annotations ?? [])];
        const merged = { ...existing, ...update, output: { ...previous, ...(next ?? {}), annotations } };
        world.checkRuns.set(id, merged);
        return ok(checkRunObject(web(), deps.app, repo.owner, repo, merged, id, deps.clock.now()));
      },
    },
    {
      // List for a ref: how a reporter finds the check run it may have created before a crash
      // (by external_id, which GitHub does not filter on). `filter=latest` (the default) keeps the
      // newest check run per name.
      method: 'GET',
      path: '/repos/{owner}/{repo}/commits/{ref}/check-runs',
      auth: 'installation',
      permission: () => ['checks', 'read'],
      handle: (ctx) => {
        const repo = repoOf(ctx);
        const ref = ctx.params['ref'];
        const { check_name: name, status, filter } = ctx.query;
        let runs = [...world.checkRuns.entries()]
          .filter(([, f]) => f['repoId'] === repo.id && f['head_sha'] === ref)
          .filter(([, f]) => !name || f['name'] === name)
          .filter(([, f]) => !status || (f['conclusion'] ? 'completed' : ((f['status'] as string | undefined) ?? 'queued')) === status)
          .sort(([a], [b]) => b - a);
        if (filter !== 'all') runs = runs.filter(([, f], i) => runs.findIndex(([, g]) => g['name'] === f['name']) === i);
        const { page, headers } = paginate(ctx, runs);
        return ok({ total_count: runs.length, check_runs: page.map(([id, f]) => checkRunObject(web(), deps.app, repo.owner, repo, f, id, deps.clock.now())) }, headers);
      },
    },
    {
      method: 'GET',
      path: '/repos/{owner}/{repo}/actions/runs',
      auth: 'installation',
      permission: () => ['actions', 'read'],
      handle: (ctx) => {
        const repo = repoOf(ctx);
        const status = ctx.query['status'];
        const runs = [...world.runs.values()]
          .filter((r) => r.repo.id === repo.id)
          .filter((r) => !status || runState(r).status === status || runState(r).conclusion === status)
          .sort((a, b) => b.createdAt - a.createdAt);
        const { page, headers } = paginate(ctx, runs);
        return ok({ total_count: runs.length, workflow_runs: page.map((r) => workflowRunObject(web(), r)) }, headers);
      },
    },
    {
      method: 'GET',
      path: '/repos/{owner}/{repo}/actions/runs/{run_id}',
      auth: 'installation',
      permission: () => ['actions', 'read'],
      handle: (ctx) => {
        const repo = repoOf(ctx);
        const run = world.runs.get(Number(ctx.params['run_id']));
        if (!run || run.repo.id !== repo.id) throw notFound();
        return ok(workflowRunObject(web(), run));
      },
    },
    {
      method: 'GET',
      path: '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
      auth: 'installation',
      permission: () => ['actions', 'read'],
      handle: (ctx) => {
        const repo = repoOf(ctx);
        const run = world.runs.get(Number(ctx.params['run_id']));
        if (!run || run.repo.id !== repo.id) throw notFound();
        const { page, headers } = paginate(ctx, run.jobs);
        return ok({ total_count: run.jobs.length, jobs: page.map((j) => jobObject(web(), j)) }, headers);
      },
    },
    {
      method: 'GET',
      path: '/repos/{owner}/{repo}/actions/jobs/{job_id}',
      auth: 'installation',
      permission: () => ['actions', 'read'],
      handle: (ctx) => {
        const repo = repoOf(ctx);
        const job = world.jobs.get(Number(ctx.params['job_id']));
        if (!job || job.repo.id !== repo.id) throw notFound();
        return ok(jobObject(web(), job));
      },
    },

    // --- no rate cost / no auth -----------------------------------------------------------------
    {
      // The end of the App manifest flow: the temporary code is the credential (app-manifests.ts).
      method: 'POST',
      path: '/app-manifests/{code}/conversions',
      auth: 'none',
      handle: (ctx) => {
        const pending = deps.manifests.take(ctx.params['code'] ?? '');
        if (!pending) throw notFound();
        const secrets = deps.adoptManifest(pending);
        const owner = pending.org ?? { login: 'octo-dev', id: 583_231, type: 'User' as const };
        return {
          status: 201,
          body: { ...appObject(web(), deps.app, owner), client_id: deps.app.clientId, client_secret: secrets.clientSecret, webhook_secret: secrets.webhookSecret, pem: secrets.pem },
        };
      },
    },
    {
      method: 'GET',
      path: '/rate_limit',
      auth: 'any',
      free: true,
      handle: (ctx) => {
        const state = deps.limiter.peek(ctx.installation ? `installation:${ctx.installation.id}` : 'app');
        const core = { limit: state.limit, remaining: state.remaining, reset: state.reset, used: state.used };
        return ok({ resources: { core, search: { limit: 30, remaining: 30, reset: state.reset, used: 0 } }, rate: core });
      },
    },
    {
      method: 'GET',
      path: '/meta',
      auth: 'none',
      handle: () =>
        ok({
          verifiable_password_authentication: false,
          hooks: ['127.0.0.0/8', '::1/128'],
          web: ['127.0.0.0/8'],
          api: ['127.0.0.0/8'],
          git: ['127.0.0.0/8'],
          actions: [],
          domains: { website: [new URL(web()).host] },
        }),
    },
  ];
  return routes;
}
