import { githubSubject, timestampFromDate, workflowJobEventFromApi, type ApiJob, type ApiJobRepository, type SubjectMessages, type WorkflowJobEvent } from '@runnerhub/contracts';
import { getJob, listRunJobs, NotFoundError, repoInstallation, type GitHubClient, type Job, type JobMessage } from '@runnerhub/github';

/**
 * A scale-set job message turned into the fact a webhook would have given: the `workflow_job`
 * event of the job's REST id (the message's `jobId` is a GUID of the Actions service, garm#459).
 * The REST job supplies what the message lacks and the consumers need (the id the scheduler keys
 * on, the commit check runs go to, labels, created_at), and is the truth where the message is only
 * a hint: a JobCompleted GitHub's API does not confirm (a job cancelled and reassigned by the
 * broker, say) gives no fact. Because both intakes publish the same event keyed by the same id, a
 * pool with `intake: both` folds each job once.
 */

export type JobFact = { subject: `gh.workflow_job.${string}`; message: SubjectMessages[`gh.workflow_job.${string}`]; msgId: string; jobId: bigint };

/** Why a job message gives no fact; each is counted. */
export type SkipReason = 'not_in_run' | 'gone' | 'completion_unconfirmed';

export type Resolution = { kind: 'fact'; fact: JobFact } | { kind: 'skip'; reason: SkipReason; detail: string };

/** Remembered REST ids: one entry per job GUID (a job is a few messages over minutes). */
const KNOWN_JOBS = 10_000;

const RESULT_TO_CONCLUSION: Record<string, string> = { succeeded: 'success', failed: 'failure', canceled: 'cancelled', cancelled: 'cancelled', skipped: 'skipped' };

export function scaleSetJobs(gh: GitHubClient) {
  const repositories = new Map<string, ApiJobRepository>();
  const restIds = new Map<string, number>();

  const repositoryOf = async (owner: string, name: string): Promise<ApiJobRepository> => {
    const key = `${owner}/${name}`.toLowerCase();
    let repo = repositories.get(key);
    if (!repo) {
      const installation = await repoInstallation(gh, owner, name);
      const organization = installation.account && 'type' in installation.account && installation.account.type === 'Organization' ? owner : '';
      repositories.set(key, (repo = { installationId: installation.id, owner, name, organization }));
    }
    return repo;
  };

  /** The REST job of a message: by the id learnt before, else by its run and name. */
  const restJob = async (repo: ApiJobRepository, job: JobMessage): Promise<Job | undefined> => {
    const repository = `${repo.owner}/${repo.name}`;
    const known = restIds.get(job.jobId);
    if (known !== undefined) return getJob(gh, repo.installationId, repository, known);
    const candidates = (await listRunJobs(gh, repo.installationId, repository, job.workflowRunId)).filter((j) => j.name === job.jobDisplayName);
    const asked = new Set(job.requestLabels.map((l) => l.toLowerCase()));
    const found = candidates.find((j) => j.labels.length === asked.size && j.labels.every((l) => asked.has(l.toLowerCase()))) ?? candidates[0];
    if (found) {
      if (restIds.size >= KNOWN_JOBS) restIds.delete(restIds.keys().next().value!);
      restIds.set(job.jobId, Number(found.id));
    }
    return found;
  };

  return {
    /** GitHub errors other than a 404 are thrown: the message stays unacknowledged and comes again. */
    async resolve(job: JobMessage, delivery: { scaleSetId: number; messageId: number; receivedAt: Date; raw: unknown }): Promise<Resolution> {
      let repo: ApiJobRepository;
      let rest: Job | undefined;
      try {
        repo = await repositoryOf(job.ownerName, job.repositoryName);
        rest = await restJob(repo, job);
      } catch (error) {
        if (error instanceof NotFoundError) return { kind: 'skip', reason: 'gone', detail: error.message };
        throw error;
      }
      if (!rest) return { kind: 'skip', reason: 'not_in_run', detail: `run ${job.workflowRunId} of ${job.ownerName}/${job.repositoryName} has no job named ${JSON.stringify(job.jobDisplayName)}` };
      const api: ApiJob = { ...rest, labels: rest.labels, conclusion: rest.conclusion ?? null };
      if (job.type === 'JobCompleted' && rest.status !== 'completed') {
        return { kind: 'skip', reason: 'completion_unconfirmed', detail: `GitHub's API says job ${rest.id} is ${rest.status}` };
      }
      // GitHub's API may lag the broker by a moment: a started job is at least in progress.
      if (job.type === 'JobStarted' && (rest.status === 'queued' || rest.status === 'waiting' || rest.status === 'pending')) {
        api.status = 'in_progress';
        api.runner_id = job.runnerId;
        api.runner_name = job.runnerName;
        api.started_at = (job.runnerAssignTime ?? delivery.receivedAt).toISOString();
      }
      const event: WorkflowJobEvent = workflowJobEventFromApi(api, repo, {
        deliveryId: `scaleset-${delivery.scaleSetId}-${delivery.messageId}`,
        action: api.status,
        receivedAt: timestampFromDate(delivery.receivedAt),
        payload: new TextEncoder().encode(JSON.stringify(delivery.raw)),
      });
      if (job.type === 'JobCompleted' && !event.conclusion) {
        const word = RESULT_TO_CONCLUSION[job.result.toLowerCase()];
        if (word) event.conclusion = workflowJobEventFromApi({ ...api, conclusion: word }, repo).conclusion;
      }
      return { kind: 'fact', fact: { subject: githubSubject('workflow_job', api.status), message: event, msgId: `scaleset:${job.jobId}:${job.type}`, jobId: event.jobId } };
    },
  };
}
