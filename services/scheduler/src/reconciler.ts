import { PoolScopeKind, timestampFromDate, WorkflowJobConclusion, WorkflowJobStatus, workflowJobEventFromApi, type WorkflowJobEvent } from '@runnerhub/contracts';
import { getJob, listInstallationRepositories, listRunJobs, listRuns, NotFoundError, orgInstallation, repoInstallation, type GitHubClient, type Job } from '@runnerhub/github';
import type { Logger } from '@runnerhub/platform';
import type pg from 'pg';
import { decide } from './decide.js';
import type { DemandPublisher } from './demand.js';
import { loadJobRef, recordWorkflowJob } from './jobs.js';
import { RANK, type JobStatus } from './job-state.js';
import type { OriginLookup } from './origin.js';
import type { OutboxRelay } from './outbox.js';
import type { PoolDirectory } from './pools.js';
import type { SchedulingRules } from './rules.js';

/**
 * The missed-job reconciler: what webhooks did not tell us, GitHub's API does. For every repository
 * a pool serves, it lists the queued and in-progress workflow runs and their jobs, records queued
 * jobs we never heard of and moves known jobs forward to what GitHub says; then it asks GitHub about
 * the jobs we still think are waiting or running but did not see listed (a job cancelled, or
 * finished, while its webhook was lost), oldest check first. Every answer goes through the same fold as a webhook, so it can only
 * move a job forward. Runs on one replica at a time (a lease) and stops when the shared GitHub
 * budget runs low, continuing in the next cycle.
 */

export interface ReconcilerDeps {
  db: pg.Pool;
  gh: GitHubClient;
  pools: PoolDirectory;
  rules: SchedulingRules;
  origins: OriginLookup;
  relay: OutboxRelay;
  demand: DemandPublisher;
  log: Logger;
  /** Jobs asked about one by one per cycle, at most. */
  maxChecksPerCycle: number;
}

export interface ReconcileSummary {
  repositories: number;
  runs: number;
  jobsSeen: number;
  /** Queued jobs no webhook told us about. */
  found: number;
  /** Known jobs that GitHub says moved on (started or completed). */
  advanced: number;
  /** Waiting jobs asked about one by one. */
  checked: number;
  stoppedBy: string | null;
}

/** Calls a repository costs at least (two run lists, one job list); below this the cycle stops. */
const CALLS_PER_REPOSITORY = 3;
/** A waiting job is asked about again after this long. */
const RECHECK_AFTER_S = 120;
/**
 * A running job that no list showed (its run is over, or its completed webhook was lost for good)
 * is asked about after it has run this long, and again as often: jobs run for minutes to hours.
 */
const RECHECK_RUNNING_AFTER_S = 300;

interface Target {
  installationId: number;
  owner: string;
  name: string;
  organization: string;
}

/** The repositories the pools serve: a repository pool its own, an organization pool every repository the App sees there. */
async function targets(deps: ReconcilerDeps): Promise<Target[]> {
  const found = new Map<string, Target>();
  for (const pool of deps.pools.all()) {
    const scope = pool.scope;
    if (!scope) continue;
    if (scope.kind === PoolScopeKind.REPOSITORY) {
      const [owner = '', name = ''] = scope.repository.split('/');
      const installation = await repoInstallation(deps.gh, owner, name);
      const organization = installation.account && 'type' in installation.account && installation.account.type === 'Organization' ? owner : '';
      found.set(scope.repository.toLowerCase(), { installationId: installation.id, owner, name, organization });
    } else {
      const installation = await orgInstallation(deps.gh, scope.organization);
      for await (const repo of listInstallationRepositories(deps.gh, installation.id)) {
        if (repo.owner.login.toLowerCase() !== scope.organization.toLowerCase()) continue;
        found.set(repo.full_name.toLowerCase(), { installationId: installation.id, owner: repo.owner.login, name: repo.name, organization: repo.owner.login });
      }
    }
  }
  return [...found.values()];
}

/** A job as GitHub's API shows it, shaped like the webhook event the fold expects. */
export function eventFromJob(job: Job, target: Target): WorkflowJobEvent {
  return workflowJobEventFromApi(job, target);
}

export async function reconcileMissedJobs(deps: ReconcilerDeps, signal?: AbortSignal): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { repositories: 0, runs: 0, jobsSeen: 0, found: 0, advanced: 0, checked: 0, stoppedBy: null };
  // A job first seen after the lists were read may simply not have been in them.
  const listedAt = new Date();
  const seen = new Set<string>();
  /** Repositories whose queued and in-progress runs were read this cycle. */
  const listed = new Set<string>();
  const known = async (ids: string[]): Promise<Map<string, JobStatus>> => {
    const { rows } = await deps.db.query<{ id: string; status: JobStatus }>('SELECT job_id::text AS id, status FROM jobs WHERE job_id = ANY($1::bigint[])', [ids]);
    return new Map(rows.map((r) => [r.id, r.status]));
  };
  const fold = async (job: Job, target: Target, ours: JobStatus | undefined): Promise<void> => {
    const event = eventFromJob(job, target);
    const origin = await deps.origins.of(event);
    await recordWorkflowJob(deps.db, event, () => decide(event, deps.pools, deps.rules, origin), undefined, 'reconciler');
    if (ours === undefined) {
      summary.found += 1;
      deps.log.info({ jobId: job.id, repository: `${target.owner}/${target.name}`, status: job.status }, 'job found by the reconciler: no webhook told us about it');
    } else summary.advanced += 1;
  };
  const stop = (why: string): boolean => {
    summary.stoppedBy = why;
    return true;
  };
  const budgetLeft = async (installationId: number, calls: number): Promise<boolean> => (await deps.gh.budget.canSpend(installationId, calls)).ok;

  for (const target of await targets(deps)) {
    if (signal?.aborted && stop('stopping')) break;
    if (!(await budgetLeft(target.installationId, CALLS_PER_REPOSITORY)) && stop(`GitHub rate budget of installation ${target.installationId}`)) break;
    summary.repositories += 1;
    const repository = `${target.owner}/${target.name}`;
    listed.add(repository.toLowerCase());
    // A run that started some jobs is in_progress while later ones still wait.
    const runs = [...(await listRuns(deps.gh, target.installationId, repository, 'queued')), ...(await listRuns(deps.gh, target.installationId, repository, 'in_progress'))];
    for (const run of runs) {
      summary.runs += 1;
      const jobs = await listRunJobs(deps.gh, target.installationId, repository, Number(run.id));
      const ours = await known(jobs.map((j) => String(j.id)));
      for (const job of jobs) {
        summary.jobsSeen += 1;
        seen.add(String(job.id));
        const status = job.status;
        if (!(status in RANK)) continue;
        const mine = ours.get(String(job.id));
        const unknownAndWaiting = mine === undefined && RANK[status] === 0;
        if (unknownAndWaiting || (mine !== undefined && RANK[status] > RANK[mine])) await fold(job, target, mine);
      }
    }
  }

  // Jobs we think wait or run but that GitHub's lists did not show: ask about each. In a repository
  // listed just now, such a job has moved on for certain (finished, cancelled): asked at once. In
  // others (no pool serves them, or the cycle stopped early) they are asked about now and then.
  if (!summary.stoppedBy) {
    const { rows } = await deps.db.query<{ id: string; installationId: string; owner: string; name: string; organization: string }>(
      `SELECT job_id::text AS id, installation_id::text AS "installationId", repo_owner AS owner, repo_name AS name, organization
         FROM jobs
        WHERE status <> 'completed' AND match <> 'not_ours' AND installation_id IS NOT NULL
          AND first_seen_at < $1 AND NOT (job_id = ANY($6::bigint[]))
          AND (lower(repo_owner || '/' || repo_name) = ANY($5::text[])
               OR CASE WHEN status = 'in_progress'
                       THEN COALESCE(checked_at, started_at, first_seen_at) < now() - make_interval(secs => $4)
                       ELSE checked_at IS NULL OR checked_at < now() - make_interval(secs => $2) END)
        ORDER BY checked_at NULLS FIRST, first_seen_at LIMIT $3`,
      [listedAt, RECHECK_AFTER_S, deps.maxChecksPerCycle, RECHECK_RUNNING_AFTER_S, [...listed], [...seen]],
    );
    for (const row of rows) {
      if (signal?.aborted && stop('stopping')) break;
      const installationId = Number(row.installationId);
      if (!(await budgetLeft(installationId, 1)) && stop(`GitHub rate budget of installation ${installationId}`)) break;
      const target: Target = { installationId, owner: row.owner, name: row.name, organization: row.organization };
      summary.checked += 1;
      try {
        const job = await getJob(deps.gh, installationId, `${row.owner}/${row.name}`, Number(row.id));
        const ours = (await known([row.id])).get(row.id);
        if (ours !== undefined && RANK[job.status] > RANK[ours]) await fold(job, target, ours);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        // The run or the repository is gone: nothing will ever take the job.
        await closeVanishedJob(deps, row.id);
      }
      await deps.db.query('UPDATE jobs SET checked_at = now() WHERE job_id = $1', [row.id]);
    }
  }
  if (summary.found + summary.advanced > 0) {
    deps.relay.wake();
    deps.demand.nudge();
  }
  return summary;
}

/** GitHub answers 404 for a job we think waits (its run or repository was deleted): nothing will ever take it. */
async function closeVanishedJob(deps: ReconcilerDeps, jobId: string): Promise<void> {
  const ref = await loadJobRef(deps.db, jobId);
  if (!ref) return;
  deps.log.warn({ jobId }, 'GitHub no longer knows a job we thought was waiting; closing it as cancelled');
  const event: WorkflowJobEvent = {
    $typeName: 'runnerhub.v1.WorkflowJobEvent',
    repository: ref.repository,
    organization: ref.organization,
    jobId: ref.jobId,
    runId: ref.runId,
    runAttempt: ref.runAttempt,
    workflowName: ref.workflowName,
    jobName: ref.jobName,
    labels: ref.labels,
    status: WorkflowJobStatus.COMPLETED,
    conclusion: WorkflowJobConclusion.CANCELLED,
    runnerId: 0n,
    runnerName: '',
    runnerGroupId: 0n,
    runnerGroupName: '',
    headSha: ref.headSha,
    headBranch: ref.headBranch,
    htmlUrl: ref.htmlUrl,
    completedAt: timestampFromDate(new Date()),
    senderLogin: '',
    checkRunUrl: '',
  };
  // The row exists, so nothing is decided again.
  await recordWorkflowJob(deps.db, event, () => ({ match: { kind: 'unmatched', closest: [] }, priority: 'normal', origin: { publicRepository: false, forkPullRequest: false } }), undefined, 'reconciler');
}
