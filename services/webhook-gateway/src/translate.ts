import {
  githubSubject,
  jobConclusionFromGitHub,
  jobStatusFromGitHub,
  RepositoryVisibility,
  timestampFromDate,
  type GithubEvent,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { action, FieldError, id, identifier, labels, list, MAX_FULL_NAME, MAX_LOGIN, MAX_REPOSITORY_NAME, MAX_SHA, MAX_URL, MAX_WORD, object, runAttempt, text, time } from './fields.js';

/**
 * Turns a verified delivery into the typed message its consumers read. Only the fields consumers
 * need are typed; the raw payload travels along for replay and debugging. Events we do not use are
 * `ignored` (answered 202 and counted).
 */

export interface DeliveryMeta {
  guid: string;
  event: string;
  hookId: string | undefined;
  receivedAt: Date;
  raw: Buffer;
}

type Json = Record<string, unknown>;

/** One typed message per event we use; the subject's event token decides the message type. */
type GithubMessage = { [E in GithubEvent]: { subject: `gh.${E}.${string}`; message: SubjectMessages[`gh.${E}.${string}`] } }[GithubEvent];

export type Translation =
  | ({ kind: 'publish'; action: string; installationId: bigint } & GithubMessage)
  | { kind: 'ignored'; action: string; installationId: bigint }
  /** `field` names what was refused (`workflow_job.run_attempt`), `message` says why. */
  | { kind: 'invalid'; field: string; message: string };

function repository(r: Json | undefined, at: string) {
  if (!r) return undefined;
  return {
    $typeName: 'runnerhub.v1.Repository' as const,
    id: id(r.id, `${at}.id`),
    owner: identifier(object(r.owner, `${at}.owner`)?.login, `${at}.owner.login`, MAX_LOGIN),
    name: identifier(r.name, `${at}.name`, MAX_REPOSITORY_NAME),
    fullName: identifier(r.full_name, `${at}.full_name`, MAX_FULL_NAME),
    visibility: visibilityOf(r),
  };
}

/**
 * repository.visibility where the payload has it, else repository.private. Neither (a payload of
 * an older GHES): UNSPECIFIED, and the scheduler asks GitHub before it lets a pool run the job.
 */
function visibilityOf(r: Json): RepositoryVisibility {
  switch (r.visibility) {
    case 'public':
      return RepositoryVisibility.PUBLIC;
    case 'private':
      return RepositoryVisibility.PRIVATE;
    case 'internal':
      return RepositoryVisibility.INTERNAL;
  }
  if (typeof r.private === 'boolean') return r.private ? RepositoryVisibility.PRIVATE : RepositoryVisibility.PUBLIC;
  return RepositoryVisibility.UNSPECIFIED;
}

/** The repositories of installation events carry no owner object: the owner is the full name's first part. */
const repos = (v: unknown, at: string) =>
  list(v, at).map((item, i) => {
    const r = object(item, `${at}[${i}]`) ?? {};
    const fullName = identifier(r.full_name, `${at}[${i}].full_name`, MAX_FULL_NAME);
    return { $typeName: 'runnerhub.v1.Repository' as const, id: id(r.id, `${at}[${i}].id`), owner: fullName.split('/')[0] ?? '', name: identifier(r.name, `${at}[${i}].name`, MAX_REPOSITORY_NAME), fullName, visibility: visibilityOf(r) };
  });

const login = (v: unknown, at: string) => identifier(object(v, at)?.login, `${at}.login`, MAX_LOGIN);

/**
 * Every field read is checked by its rule in fields.ts: a value GitHub could never send, or one a
 * consumer could not store, refuses the whole delivery with its field's name.
 */
export function translate(meta: DeliveryMeta, payload: unknown): Translation {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return { kind: 'invalid', field: 'payload', message: 'payload must be a JSON object' };
  try {
    return translateFields(meta, payload as Json);
  } catch (err) {
    if (err instanceof FieldError) return { kind: 'invalid', field: err.field, message: err.message };
    throw err;
  }
}

function translateFields(meta: DeliveryMeta, p: Json): Translation {
  const act = action(p.action);
  const installationId = id(object(p.installation, 'installation')?.id, 'installation.id');
  const delivery = { deliveryId: meta.guid, event: meta.event, action: act, installationId, hookId: meta.hookId ?? '', receivedAt: timestampFromDate(meta.receivedAt), payload: meta.raw };

  switch (meta.event) {
    case 'workflow_job': {
      const j = object(p.workflow_job, 'workflow_job');
      if (!j) return { kind: 'invalid', field: 'workflow_job', message: 'workflow_job delivery without workflow_job' };
      const subject = githubSubject('workflow_job', act);
      const repo = repository(object(p.repository, 'repository'), 'repository');
      const message: SubjectMessages[`gh.workflow_job.${string}`] = {
        $typeName: 'runnerhub.v1.WorkflowJobEvent',
        delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
        ...(repo ? { repository: repo } : {}),
        organization: login(p.organization, 'organization'),
        jobId: id(j.id, 'workflow_job.id', { required: true }),
        runId: id(j.run_id, 'workflow_job.run_id'),
        runAttempt: runAttempt(j.run_attempt, 'workflow_job.run_attempt'),
        workflowName: text(j.workflow_name, 'workflow_job.workflow_name'),
        jobName: text(j.name, 'workflow_job.name'),
        labels: labels(j.labels, 'workflow_job.labels'),
        status: jobStatusFromGitHub(identifier(j.status, 'workflow_job.status', MAX_WORD)),
        conclusion: jobConclusionFromGitHub(identifier(j.conclusion, 'workflow_job.conclusion', MAX_WORD)),
        runnerId: id(j.runner_id, 'workflow_job.runner_id'),
        runnerName: text(j.runner_name, 'workflow_job.runner_name'),
        runnerGroupId: id(j.runner_group_id, 'workflow_job.runner_group_id'),
        runnerGroupName: text(j.runner_group_name, 'workflow_job.runner_group_name'),
        headSha: identifier(j.head_sha, 'workflow_job.head_sha', MAX_SHA),
        headBranch: text(j.head_branch, 'workflow_job.head_branch'),
        htmlUrl: identifier(j.html_url, 'workflow_job.html_url', MAX_URL),
        createdAt: time(j.created_at, 'workflow_job.created_at'),
        startedAt: time(j.started_at, 'workflow_job.started_at'),
        completedAt: time(j.completed_at, 'workflow_job.completed_at'),
        senderLogin: login(p.sender, 'sender'),
        checkRunUrl: identifier(j.check_run_url, 'workflow_job.check_run_url', MAX_URL),
      };
      return { kind: 'publish', subject, action: act, installationId, message };
    }
    case 'workflow_run': {
      const r = object(p.workflow_run, 'workflow_run');
      if (!r) return { kind: 'invalid', field: 'workflow_run', message: 'workflow_run delivery without workflow_run' };
      const repo = repository(object(p.repository, 'repository'), 'repository');
      return {
        kind: 'publish',
        subject: githubSubject('workflow_run', act),
        action: act,
        installationId,
        message: {
          $typeName: 'runnerhub.v1.WorkflowRunEvent',
          delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
          ...(repo ? { repository: repo } : {}),
          organization: login(p.organization, 'organization'),
          runId: id(r.id, 'workflow_run.id', { required: true }),
          runAttempt: runAttempt(r.run_attempt, 'workflow_run.run_attempt'),
          workflowId: id(r.workflow_id, 'workflow_run.workflow_id'),
          workflowName: text(r.name, 'workflow_run.name'),
          status: identifier(r.status, 'workflow_run.status', MAX_WORD),
          conclusion: identifier(r.conclusion, 'workflow_run.conclusion', MAX_WORD),
          headSha: identifier(r.head_sha, 'workflow_run.head_sha', MAX_SHA),
          headBranch: text(r.head_branch, 'workflow_run.head_branch'),
          triggerEvent: identifier(r.event, 'workflow_run.event', MAX_WORD),
          htmlUrl: identifier(r.html_url, 'workflow_run.html_url', MAX_URL),
          createdAt: time(r.created_at, 'workflow_run.created_at'),
          updatedAt: time(r.updated_at, 'workflow_run.updated_at'),
        },
      };
    }
    case 'installation': {
      const i = object(p.installation, 'installation');
      const account = object(i?.account, 'installation.account');
      return {
        kind: 'publish',
        subject: githubSubject('installation', act),
        action: act,
        installationId,
        message: {
          $typeName: 'runnerhub.v1.InstallationEvent',
          delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
          appId: id(i?.app_id, 'installation.app_id'),
          accountLogin: identifier(account?.login, 'installation.account.login', MAX_LOGIN),
          accountId: id(account?.id, 'installation.account.id'),
          accountType: identifier(account?.type, 'installation.account.type', MAX_WORD),
          repositorySelection: identifier(i?.repository_selection, 'installation.repository_selection', MAX_WORD),
          repositories: repos(p.repositories, 'repositories'),
        },
      };
    }
    case 'installation_repositories': {
      const account = object(object(p.installation, 'installation')?.account, 'installation.account');
      return {
        kind: 'publish',
        subject: githubSubject('installation_repositories', act),
        action: act,
        installationId,
        message: {
          $typeName: 'runnerhub.v1.InstallationRepositoriesEvent',
          delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
          accountLogin: identifier(account?.login, 'installation.account.login', MAX_LOGIN),
          accountId: id(account?.id, 'installation.account.id'),
          repositorySelection: identifier(p.repository_selection, 'repository_selection', MAX_WORD),
          repositoriesAdded: repos(p.repositories_added, 'repositories_added'),
          repositoriesRemoved: repos(p.repositories_removed, 'repositories_removed'),
        },
      };
    }
    case 'ping': {
      const hook = object(p.hook, 'hook');
      return {
        kind: 'publish',
        subject: githubSubject('ping'),
        action: act,
        installationId,
        message: {
          $typeName: 'runnerhub.v1.PingEvent',
          delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
          hookId: p.hook_id !== undefined && p.hook_id !== null ? id(p.hook_id, 'hook_id') : id(hook?.id, 'hook.id'),
          appId: id(hook?.app_id, 'hook.app_id'),
          zen: text(p.zen, 'zen'),
        },
      };
    }
    default:
      return { kind: 'ignored', action: act, installationId };
  }
}
