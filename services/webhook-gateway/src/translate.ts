import {
  githubSubject,
  jobConclusionFromGitHub,
  jobStatusFromGitHub,
  timestampFromDate,
  type GithubEvent,
  type SubjectMessages,
} from '@runnerhub/contracts';

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
  | { kind: 'invalid'; message: string };

const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const int = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : 0n);
const time = (v: unknown) => {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : timestampFromDate(d);
};

function repository(p: Json) {
  const r = obj(p.repository);
  if (!r) return undefined;
  return { id: int(r.id), owner: str(obj(r.owner)?.login), name: str(r.name), fullName: str(r.full_name) };
}

const repos = (v: unknown) =>
  (Array.isArray(v) ? v : []).map(obj).filter((r): r is Json => r !== undefined).map((r) => {
    const fullName = str(r.full_name);
    return { id: int(r.id), owner: fullName.split('/')[0] ?? '', name: str(r.name), fullName };
  });

/** A valid action is one subject token; anything else cannot be routed and is refused. */
const ACTION = /^[A-Za-z0-9_-]*$/;

export function translate(meta: DeliveryMeta, payload: unknown): Translation {
  const p = obj(payload);
  if (!p) return { kind: 'invalid', message: 'payload must be a JSON object' };
  const action = str(p.action);
  if (!ACTION.test(action)) return { kind: 'invalid', message: 'payload action is not a plain word' };
  const installationId = int(obj(p.installation)?.id);
  const delivery = { deliveryId: meta.guid, event: meta.event, action, installationId, hookId: meta.hookId ?? '', receivedAt: timestampFromDate(meta.receivedAt), payload: meta.raw };

  switch (meta.event) {
    case 'workflow_job': {
      const j = obj(p.workflow_job);
      if (!j || typeof j.id !== 'number') return { kind: 'invalid', message: 'workflow_job delivery without workflow_job.id' };
      const subject = githubSubject('workflow_job', action);
      const message: SubjectMessages[`gh.workflow_job.${string}`] = {
        $typeName: 'runnerhub.v1.WorkflowJobEvent',
        delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
        ...withRepository(p),
        organization: str(obj(p.organization)?.login),
        jobId: int(j.id),
        runId: int(j.run_id),
        runAttempt: typeof j.run_attempt === 'number' ? j.run_attempt : 1,
        workflowName: str(j.workflow_name),
        jobName: str(j.name),
        labels: (Array.isArray(j.labels) ? j.labels : []).filter((l): l is string => typeof l === 'string'),
        status: jobStatusFromGitHub(str(j.status)),
        conclusion: jobConclusionFromGitHub(str(j.conclusion)),
        runnerId: int(j.runner_id),
        runnerName: str(j.runner_name),
        runnerGroupId: int(j.runner_group_id),
        runnerGroupName: str(j.runner_group_name),
        headSha: str(j.head_sha),
        headBranch: str(j.head_branch),
        htmlUrl: str(j.html_url),
        createdAt: time(j.created_at),
        startedAt: time(j.started_at),
        completedAt: time(j.completed_at),
        senderLogin: str(obj(p.sender)?.login),
        checkRunUrl: str(j.check_run_url),
      };
      return { kind: 'publish', subject, action, installationId, message };
    }
    case 'workflow_run': {
      const r = obj(p.workflow_run);
      if (!r || typeof r.id !== 'number') return { kind: 'invalid', message: 'workflow_run delivery without workflow_run.id' };
      return {
        kind: 'publish',
        subject: githubSubject('workflow_run', action),
        action,
        installationId,
        message: {
          $typeName: 'runnerhub.v1.WorkflowRunEvent',
          delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
          ...withRepository(p),
          organization: str(obj(p.organization)?.login),
          runId: int(r.id),
          runAttempt: typeof r.run_attempt === 'number' ? r.run_attempt : 1,
          workflowId: int(r.workflow_id),
          workflowName: str(r.name),
          status: str(r.status),
          conclusion: str(r.conclusion),
          headSha: str(r.head_sha),
          headBranch: str(r.head_branch),
          triggerEvent: str(r.event),
          htmlUrl: str(r.html_url),
          createdAt: time(r.created_at),
          updatedAt: time(r.updated_at),
        },
      };
    }
    case 'installation': {
      const i = obj(p.installation);
      const account = obj(i?.account);
      return {
        kind: 'publish',
        subject: githubSubject('installation', action),
        action,
        installationId,
        message: {
          $typeName: 'runnerhub.v1.InstallationEvent',
          delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
          appId: int(i?.app_id),
          accountLogin: str(account?.login),
          accountId: int(account?.id),
          accountType: str(account?.type),
          repositorySelection: str(i?.repository_selection),
          repositories: repos(p.repositories).map((r) => ({ $typeName: 'runnerhub.v1.Repository' as const, ...r })),
        },
      };
    }
    case 'installation_repositories': {
      const account = obj(obj(p.installation)?.account);
      return {
        kind: 'publish',
        subject: githubSubject('installation_repositories', action),
        action,
        installationId,
        message: {
          $typeName: 'runnerhub.v1.InstallationRepositoriesEvent',
          delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
          accountLogin: str(account?.login),
          accountId: int(account?.id),
          repositorySelection: str(p.repository_selection),
          repositoriesAdded: repos(p.repositories_added).map((r) => ({ $typeName: 'runnerhub.v1.Repository' as const, ...r })),
          repositoriesRemoved: repos(p.repositories_removed).map((r) => ({ $typeName: 'runnerhub.v1.Repository' as const, ...r })),
        },
      };
    }
    case 'ping': {
      const hook = obj(p.hook);
      return {
        kind: 'publish',
        subject: githubSubject('ping'),
        action,
        installationId,
        message: {
          $typeName: 'runnerhub.v1.PingEvent',
          delivery: { $typeName: 'runnerhub.v1.WebhookDelivery', ...delivery },
          hookId: int(p.hook_id ?? hook?.id),
          appId: int(hook?.app_id),
          zen: str(p.zen),
        },
      };
    }
    default:
      return { kind: 'ignored', action, installationId };
  }
}

function withRepository(p: Json) {
  const r = repository(p);
  return r ? { repository: { $typeName: 'runnerhub.v1.Repository' as const, ...r } } : {};
}
