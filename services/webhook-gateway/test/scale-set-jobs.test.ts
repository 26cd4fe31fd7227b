import { randomBytes } from 'node:crypto';
import { WorkflowJobConclusion, WorkflowJobStatus } from '@runnerhub/contracts';
import { createGitHubClient, type JobMessage } from '@runnerhub/github';
import { startGitHubSim, type GitHubSim, type SimJob } from '@runnerhub/github-sim';
import { REDIS_URL } from '@runnerhub/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleSetJobs } from '../src/scale-set-jobs.js';

// A scale-set job message becomes the webhook's fact: the simulator's REST side is GitHub's API,
// real Redis under the GitHub client. The job messages are made by hand from the simulator's jobs,
// as its queue would send them (contracts/scale-set.md §3).

describe('scale-set job messages as workflow_job facts', () => {
  let sim: GitHubSim;
  let redis: Redis;
  let jobs: ReturnType<typeof scaleSetJobs>;
  const delivery = { scaleSetId: 7, messageId: 3, receivedAt: new Date('2026-12-07T10:00:00Z'), raw: { hand: 'made' } };

  const message = (job: SimJob, type: JobMessage['type'], patch: Partial<JobMessage> = {}): JobMessage =>
    ({
      type,
      runnerRequestId: 0,
      repositoryName: job.repository.split('/')[1]!,
      ownerName: job.repository.split('/')[0]!,
      jobId: job.scaleSetJobId,
      jobWorkflowRef: `${job.repository}/.github/workflows/ci.yml@refs/heads/main`,
      jobDisplayName: job.name,
      workflowRunId: job.runId,
      eventName: 'push',
      requestLabels: job.labels,
      queueTime: undefined,
      scaleSetAssignTime: undefined,
      runnerAssignTime: undefined,
      finishTime: undefined,
      ...(type === 'JobStarted' || type === 'JobCompleted' ? { runnerId: 41, runnerName: 'rh-nat-0000beef' } : {}),
      ...(type === 'JobCompleted' ? { result: 'canceled' } : {}),
      ...(type === 'JobAvailable' ? { acquireJobUrl: '' } : {}),
      ...patch,
    }) as JobMessage;

  beforeAll(async () => {
    sim = await startGitHubSim();
    sim.createInstallation({ account: 'acme', type: 'Organization', repositories: ['app'] });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    const gh = createGitHubClient({ baseUrl: sim.url, appId: sim.app.id, clientId: sim.app.clientId, privateKey: sim.app.privateKey, redis, keyPrefix: `test:gateway:${randomBytes(4).toString('hex')}`, retry: { baseMs: 5, maxMs: 50 } });
    jobs = scaleSetJobs(gh);
  });

  afterAll(async () => {
    await redis?.quit();
    await sim?.close();
  });

  it('gives a JobAssigned the queued event of the REST job: its id, commit, labels and installation', async () => {
    const job = sim.createJob({ repository: 'acme/app', labels: ['nat'], name: 'build' });
    const answer = await jobs.resolve(message(job, 'JobAssigned'), delivery);
    expect(answer.kind).toBe('fact');
    if (answer.kind !== 'fact') return;
    const { fact } = answer;
    expect(fact.subject).toBe('gh.workflow_job.queued');
    expect(fact.msgId).toBe(`scaleset:${job.scaleSetJobId}:JobAssigned`);
    expect(fact.jobId).toBe(BigInt(job.id));
    expect(fact.message).toMatchObject({ jobId: BigInt(job.id), runId: BigInt(job.runId), jobName: 'build', labels: ['nat'], status: WorkflowJobStatus.QUEUED, organization: 'acme', repository: { fullName: 'acme/app' } });
    expect(fact.message.headSha).toMatch(/^[0-9a-f]{40}$/);
    expect(fact.message.delivery).toMatchObject({ deliveryId: 'scaleset-7-3', event: 'workflow_job', action: 'queued' });
    expect(fact.message.delivery?.installationId).toBeGreaterThan(0n);
    expect(sim.violations()).toEqual([]);
  });

  it('takes a JobStarted ahead of the API as in progress on its runner, and a JobCompleted only once the API confirms it', async () => {
    const job = sim.createJob({ repository: 'acme/app', labels: ['nat'], name: 'test' });
    const started = await jobs.resolve(message(job, 'JobStarted'), delivery);
    expect(started).toMatchObject({ kind: 'fact', fact: { subject: 'gh.workflow_job.in_progress', message: { status: WorkflowJobStatus.IN_PROGRESS, runnerName: 'rh-nat-0000beef', runnerId: 41n } } });
    // The broker cancels and reassigns a job no runner took: GitHub's API still has it queued.
    expect(await jobs.resolve(message(job, 'JobCompleted'), delivery)).toMatchObject({ kind: 'skip', reason: 'completion_unconfirmed' });
    sim.cancelJob(job.id);
    const completed = await jobs.resolve(message(job, 'JobCompleted'), delivery);
    expect(completed).toMatchObject({ kind: 'fact', fact: { subject: 'gh.workflow_job.completed', msgId: `scaleset:${job.scaleSetJobId}:JobCompleted`, message: { status: WorkflowJobStatus.COMPLETED, conclusion: WorkflowJobConclusion.CANCELLED } } });
  });

  it('skips, with the reason, a job its run does not have and a repository the App cannot see', async () => {
    const job = sim.createJob({ repository: 'acme/app', labels: ['nat'], name: 'lint' });
    const missing = await jobs.resolve(message(job, 'JobAssigned', { jobId: 'another-guid', jobDisplayName: 'no such job' }), delivery);
    expect(missing).toMatchObject({ kind: 'skip', reason: 'not_in_run' });
    expect(await jobs.resolve(message(job, 'JobAssigned', { jobId: 'third-guid', ownerName: 'nobody', repositoryName: 'nothing' }), delivery)).toMatchObject({ kind: 'skip', reason: 'gone' });
  });
});
