import { isoSeconds, nodeId, restExample, rewriteStrings, webhookExample } from './templates.js';
import type { Account, Installation, Job, JobAction, Repo, Run, Runner } from './world.js';

/**
 * How github.com shows our world: REST objects and webhook payloads, each built on GitHub's own
 * example with our values filled in. `web` is the simulator's base URL, standing in for both
 * https://api.github.com and https://github.com.
 */

export interface AppInfo {
  id: number;
  clientId: string;
  slug: string;
  name: string;
  hookId: number;
  createdAt: number;
  /** Set by an App manifest conversion (app-manifests.ts); else RunnerHub's own. */
  description?: string | null;
  externalUrl?: string;
  permissions?: Record<string, 'read' | 'write'>;
  events?: string[];
}

const RUNNERHUB_PERMISSIONS: Record<string, 'read' | 'write'> = { actions: 'read', administration: 'write', checks: 'write', metadata: 'read', organization_self_hosted_runners: 'write' };

function accountUrls(web: string, account: Account): Record<string, unknown> {
  const kind = account.type === 'Organization' ? 'orgs' : 'users';
  const user = `${web}/users/${account.login}`;
  return {
    login: account.login,
    id: account.id,
    node_id: nodeId(account.type === 'Organization' ? 'Organization' : 'User', account.id),
    avatar_url: `${web}/avatars/${account.login}`,
    gravatar_id: '',
    url: `${web}/${kind}/${account.login}`,
    html_url: `${web}/${account.login}`,
    followers_url: `${user}/followers`,
    following_url: `${user}/following{/other_user}`,
    gists_url: `${user}/gists{/gist_id}`,
    starred_url: `${user}/starred{/owner}{/repo}`,
    subscriptions_url: `${user}/subscriptions`,
    organizations_url: `${user}/orgs`,
    repos_url: `${web}/${kind}/${account.login}/repos`,
    events_url: `${web}/${kind}/${account.login}/events`,
    received_events_url: `${user}/received_events`,
    type: account.type,
    site_admin: false,
  };
}

export function appObject(web: string, app: AppInfo, owner: Account): Record<string, unknown> {
  const example = restExample('integration');
  return {
    ...example,
    id: app.id,
    slug: app.slug,
    client_id: app.clientId,
    node_id: nodeId('Integration', app.id),
    owner: accountUrls(web, owner),
    name: app.name,
    description: app.description === undefined ? 'RunnerHub runs GitHub Actions jobs on your own hardware.' : app.description,
    external_url: app.externalUrl ?? web,
    html_url: `${web}/apps/${app.slug}`,
    created_at: isoSeconds(app.createdAt),
    updated_at: isoSeconds(app.createdAt),
    permissions: app.permissions ?? RUNNERHUB_PERMISSIONS,
    events: app.events ?? ['workflow_job', 'workflow_run'],
  };
}

export function installationObject(web: string, app: AppInfo, installation: Installation): Record<string, unknown> {
  const example = restExample('installation');
  return {
    ...example,
    id: installation.id,
    account: accountUrls(web, installation.account),
    repository_selection: installation.repositorySelection,
    access_tokens_url: `${web}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${web}/installation/repositories`,
    html_url: `${web}/organizations/${installation.account.login}/settings/installations/${installation.id}`,
    app_id: app.id,
    client_id: app.clientId,
    app_slug: app.slug,
    target_id: installation.account.id,
    target_type: installation.account.type,
    permissions: installation.permissions,
    events: ['workflow_job', 'workflow_run'],
    created_at: isoSeconds(installation.createdAt),
    updated_at: isoSeconds(installation.createdAt),
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_at: null,
    suspended_by: null,
  };
}

/** GET /repos/{owner}/{repo}: the REST API's full-repository example, as this repository. */
export function fullRepositoryObject(web: string, repo: Repo): Record<string, unknown> {
  // The example predates has_discussions, which the schema now requires.
  const rewritten = rewriteStrings<Record<string, unknown>>({ has_discussions: false, ...restExample('full-repository') }, [
    ['https://api.github.com', web],
    ['https://github.com', web],
    ['octocat/Hello-World', repo.fullName],
    ['octocat', repo.owner.login],
  ]);
  return {
    ...rewritten,
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.visibility !== 'public',
    visibility: repo.visibility,
    owner: { ...(rewritten['owner'] as object), ...accountUrls(web, repo.owner) },
  };
}

/** A full repository object, from the example repository of the queued workflow_job payload. */
export function repositoryObject(web: string, repo: Repo): Record<string, unknown> {
  const example = webhookExample('workflow_job', 5)['repository'] as Record<string, unknown>;
  const rewritten = rewriteStrings(example, [
    ['https://api.github.com', web],
    ['https://github.com', web],
    ['Codertocat/Hello-World', repo.fullName],
    ['Octocoders', repo.owner.login],
    ['Codertocat', repo.owner.login],
  ]);
  return {
    ...rewritten,
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.visibility !== 'public',
    visibility: repo.visibility,
    owner: { ...(rewritten['owner'] as object), ...accountUrls(web, repo.owner) },
    git_url: `git://${new URL(web).host}/${repo.fullName}.git`,
    ssh_url: `git@${new URL(web).host}:${repo.fullName}.git`,
  };
}

export function runnerObject(runner: Runner): Record<string, unknown> {
  return {
    id: runner.id,
    runner_group_id: runner.runnerGroupId,
    name: runner.name,
    os: runner.status === 'online' || runner.version ? runner.os : 'unknown',
    status: runner.status,
    busy: runner.busy,
    ephemeral: true,
    labels: runner.labels.map((l) => ({ id: l.id, name: l.name, type: l.type })),
  };
}

function jobUrls(web: string, job: Job): Record<string, string> {
  const api = `${web}/repos/${job.repo.fullName}`;
  return {
    url: `${api}/actions/jobs/${job.id}`,
    run_url: `${api}/actions/runs/${job.run.id}`,
    html_url: `${web}/${job.repo.fullName}/actions/runs/${job.run.id}/job/${job.id}`,
    check_run_url: `${api}/check-runs/${job.id}`,
  };
}

function steps(job: Job): Record<string, unknown>[] {
  if (job.status === 'queued' || job.startedAt === null) return [];
  const started = isoSeconds(job.startedAt);
  const done = job.status === 'completed';
  const ended = job.completedAt === null ? null : isoSeconds(job.completedAt);
  return [
    { name: 'Set up job', status: 'completed', conclusion: 'success', number: 1, started_at: started, completed_at: started },
    {
      name: job.command ? `Run ${job.command.slice(0, 60)}` : 'Run the job',
      status: done ? 'completed' : 'in_progress',
      conclusion: done ? job.conclusion : null,
      number: 2,
      started_at: started,
      completed_at: ended,
    },
  ];
}

/** The `workflow_job` object shared by the webhook and the REST job endpoints. */
export function jobObject(web: string, job: Job): Record<string, unknown> {
  return {
    id: job.id,
    run_id: job.run.id,
    run_attempt: job.run.attempt,
    node_id: nodeId('WorkflowJob', job.id),
    head_sha: job.run.headSha,
    head_branch: job.run.headBranch,
    ...jobUrls(web, job),
    status: job.status,
    conclusion: job.conclusion,
    created_at: isoSeconds(job.createdAt),
    // GitHub fills started_at even while queued (github-contract.md §2).
    started_at: isoSeconds(job.startedAt ?? job.createdAt),
    completed_at: job.completedAt === null ? null : isoSeconds(job.completedAt),
    name: job.name,
    steps: steps(job),
    labels: job.labels,
    runner_id: job.runner?.id ?? null,
    runner_name: job.runner?.name || null,
    runner_group_id: job.runner?.groupId || null,
    runner_group_name: job.runner?.groupName || null,
    workflow_name: job.run.workflowName,
  };
}

export function workflowJobPayload(web: string, job: Job, action: JobAction, installationId: number): Record<string, unknown> {
  const example = webhookExample('workflow_job', action === 'completed' ? 2 : 5);
  const payload: Record<string, unknown> = {
    action,
    workflow_job: jobObject(web, job),
    repository: repositoryObject(web, job.repo),
    sender: accountUrls(web, { login: 'octo-dev', id: 583_231, type: 'User' }),
    installation: { id: installationId, node_id: nodeId('IntegrationInstallation', installationId) },
  };
  if (job.repo.owner.type === 'Organization') {
    const organization = example['organization'] as Record<string, unknown> | undefined;
    const org = accountUrls(web, job.repo.owner);
    payload['organization'] = {
      ...(organization ?? {}),
      login: org['login'],
      id: org['id'],
      node_id: org['node_id'],
      url: org['url'],
      repos_url: org['repos_url'],
      events_url: org['events_url'],
      hooks_url: `${web}/orgs/${job.repo.owner.login}/hooks`,
      issues_url: `${web}/orgs/${job.repo.owner.login}/issues`,
      members_url: `${web}/orgs/${job.repo.owner.login}/members{/member}`,
      public_members_url: `${web}/orgs/${job.repo.owner.login}/public_members{/member}`,
      avatar_url: org['avatar_url'],
      description: '',
    };
  }
  return payload;
}

export function pingPayload(web: string, app: AppInfo, webhookUrl: string): Record<string, unknown> {
  const example = webhookExample('ping', 2);
  const hook = example['hook'] as Record<string, unknown>;
  return {
    zen: 'Keep it logically awesome.',
    hook_id: app.hookId,
    hook: {
      ...hook,
      type: 'App',
      id: app.hookId,
      name: 'web',
      active: true,
      app_id: app.id,
      events: ['workflow_job', 'workflow_run'],
      config: { content_type: 'json', url: webhookUrl, insecure_ssl: '0' },
      created_at: isoSeconds(app.createdAt),
      updated_at: isoSeconds(app.createdAt),
      url: `${web}/app/hook`,
      ping_url: `${web}/app/hook/pings`,
      deliveries_url: `${web}/app/hook/deliveries`,
      test_url: undefined,
    },
  };
}

export function workflowRunObject(web: string, run: Run): Record<string, unknown> {
  const example = restExample('workflow-run');
  const rewritten = rewriteStrings(example, [
    ['https://api.github.com', web],
    ['https://github.com', web],
    ['octo-org/octo-repo', run.repo.fullName],
    ['octocat/Hello-World', run.repo.fullName],
  ]);
  const { status, conclusion } = runState(run);
  const api = `${web}/repos/${run.repo.fullName}`;
  return {
    ...rewritten,
    id: run.id,
    name: run.workflowName,
    node_id: nodeId('WorkflowRun', run.id),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: '.github/workflows/ci.yml',
    display_title: run.workflowName,
    run_number: run.runNumber,
    run_attempt: run.attempt,
    event: run.event,
    status,
    conclusion,
    url: `${api}/actions/runs/${run.id}`,
    html_url: `${web}/${run.repo.fullName}/actions/runs/${run.id}`,
    jobs_url: `${api}/actions/runs/${run.id}/jobs`,
    logs_url: `${api}/actions/runs/${run.id}/logs`,
    check_suite_url: `${api}/check-suites/${run.id}`,
    artifacts_url: `${api}/actions/runs/${run.id}/artifacts`,
    cancel_url: `${api}/actions/runs/${run.id}/cancel`,
    rerun_url: `${api}/actions/runs/${run.id}/rerun`,
    previous_attempt_url: run.attempt > 1 ? `${api}/actions/runs/${run.id}/attempts/${run.attempt - 1}` : null,
    workflow_url: `${api}/actions/workflows/1`,
    created_at: isoSeconds(run.createdAt),
    updated_at: isoSeconds(run.updatedAt),
    run_started_at: isoSeconds(run.createdAt),
    repository: { ...(rewritten['repository'] as object), id: run.repo.id, name: run.repo.name, full_name: run.repo.fullName },
    head_repository: headRepositoryPart(rewritten['head_repository'], run),
  };
}

/** The run's head repository: the repository itself, or the fork a pull request comes from (an id of its own). */
function headRepositoryPart(example: unknown, run: Run): Record<string, unknown> {
  if (run.headRepository === run.repo.fullName) return { ...(example as object), id: run.repo.id, name: run.repo.name, full_name: run.repo.fullName };
  const [owner = '', name = ''] = run.headRepository.split('/');
  const e = example as Record<string, unknown>;
  return { ...e, id: 1_000_000 + run.repo.id, name, full_name: run.headRepository, owner: { ...(e['owner'] as object), login: owner } };
}

/** A run is queued until a job starts, in progress until every job completed. */
export function runState(run: Run): { status: 'queued' | 'in_progress' | 'completed'; conclusion: string | null } {
  if (run.jobs.every((j) => j.status === 'completed')) {
    const conclusions = run.jobs.map((j) => j.conclusion);
    const conclusion = conclusions.includes('failure') ? 'failure' : conclusions.includes('cancelled') ? 'cancelled' : 'success';
    return { status: 'completed', conclusion };
  }
  return { status: run.jobs.some((j) => j.status !== 'queued') ? 'in_progress' : 'queued', conclusion: null };
}

export function checkRunObject(web: string, app: AppInfo, owner: Account, repo: Repo, fields: Record<string, unknown>, id: number, nowMs: number): Record<string, unknown> {
  const output = (fields['output'] ?? {}) as { title?: string; summary?: string; text?: string; annotations?: unknown[] };
  const status = fields['conclusion'] ? 'completed' : ((fields['status'] as string | undefined) ?? 'queued');
  return {
    id,
    head_sha: fields['head_sha'],
    node_id: nodeId('CheckRun', id),
    external_id: (fields['external_id']) ?? '',
    url: `${web}/repos/${repo.fullName}/check-runs/${id}`,
    html_url: `${web}/${repo.fullName}/runs/${id}`,
    details_url: (fields['details_url']) ?? null,
    status,
    conclusion: (fields['conclusion']) ?? null,
    started_at: (fields['started_at']) ?? null,
    completed_at: (fields['completed_at']) ?? (status === 'completed' ? isoSeconds(nowMs) : null),
    output: {
      title: output.title ?? null,
      summary: output.summary ?? null,
      text: output.text ?? null,
      annotations_count: output.annotations?.length ?? 0,
      annotations_url: `${web}/repos/${repo.fullName}/check-runs/${id}/annotations`,
    },
    name: fields['name'],
    check_suite: { id: repo.id * 10 },
    app: appObject(web, app, owner),
    pull_requests: [],
  };
}

/** `workflow_run` webhooks: a reconciliation hint for managers (github-contract.md §3). */
export function workflowRunPayload(web: string, run: Run, action: 'requested' | 'in_progress' | 'completed'): Record<string, unknown> {
  const example = webhookExample('workflow_run', 3);
  const rewritten = rewriteStrings(example, [
    ['https://api.github.com', web],
    ['https://github.com', web],
    ['octo-org/octo-repo', run.repo.fullName],
    ['octo-org', run.repo.owner.login],
  ]);
  const rest = workflowRunObject(web, run);
  const exampleRun = rewritten['workflow_run'] as Record<string, unknown>;
  const repoPart = (value: unknown): Record<string, unknown> => ({
    ...(value as Record<string, unknown>),
    id: run.repo.id,
    node_id: nodeId('Repository', run.repo.id),
    name: run.repo.name,
    full_name: run.repo.fullName,
  });
  const { status, conclusion } = runState(run);
  const workflow = rewritten['workflow'] as Record<string, unknown>;
  const payload: Record<string, unknown> = {
    action,
    workflow: { ...workflow, id: 1, name: run.workflowName, path: '.github/workflows/ci.yml' },
    workflow_run: {
      ...exampleRun,
      id: run.id,
      name: run.workflowName,
      node_id: rest['node_id'],
      head_branch: run.headBranch,
      head_sha: run.headSha,
      display_title: run.workflowName,
      run_number: run.runNumber,
      run_attempt: run.attempt,
      event: run.event,
      // GitHub reports a run it just accepted as queued in the `requested` event.
      status: action === 'requested' ? 'queued' : status,
      conclusion: action === 'completed' ? conclusion : null,
      url: rest['url'],
      html_url: rest['html_url'],
      jobs_url: rest['jobs_url'],
      logs_url: rest['logs_url'],
      cancel_url: rest['cancel_url'],
      rerun_url: rest['rerun_url'],
      artifacts_url: rest['artifacts_url'],
      previous_attempt_url: rest['previous_attempt_url'],
      workflow_id: 1,
      created_at: isoSeconds(run.createdAt),
      updated_at: isoSeconds(run.updatedAt),
      run_started_at: isoSeconds(run.createdAt),
      head_commit: { ...(exampleRun['head_commit'] as object), id: run.headSha, tree_id: run.headSha },
      repository: repoPart(exampleRun['repository']),
      head_repository: run.headRepository === run.repo.fullName ? repoPart(exampleRun['head_repository']) : headRepositoryPart(exampleRun['head_repository'], run),
    },
    repository: repositoryObject(web, run.repo),
    sender: accountUrls(web, { login: 'octo-dev', id: 583_231, type: 'User' }),
    installation: { id: run.repo.installationId, node_id: nodeId('IntegrationInstallation', run.repo.installationId) },
  };
  if (run.repo.owner.type === 'Organization') {
    payload['organization'] = { ...(rewritten['organization'] as object), login: run.repo.owner.login, id: run.repo.owner.id };
  } else {
    delete payload['organization'];
  }
  return payload;
}
