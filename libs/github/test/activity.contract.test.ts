import { describe, expect, it } from 'vitest';
import { createCheckRun, generateJitConfig, listDeliveries, listRunJobs, listRuns, redeliver, updateCheckRun, type CheckRunFields, type HookDelivery } from '../src/index.js';
import { connectRunner, useSimulator } from './harness.js';

// Check runs, the App's webhook deliveries and workflow runs/jobs, against the simulator.

const h = useSimulator();

describe('check runs', () => {
  it('creates one in progress and completes it', async () => {
    const gh = h.client();
    const created = await createCheckRun(gh, h.acme.id, 'acme/app', {
      name: 'RunnerHub',
      head_sha: 'a'.repeat(40),
      status: 'in_progress',
      external_id: 'pool-small',
      output: { title: 'Waiting for a runner', summary: 'No host has room yet.' },
    });
    expect(created).toMatchObject({ name: 'RunnerHub', status: 'in_progress', head_sha: 'a'.repeat(40), external_id: 'pool-small' });
    const done = await updateCheckRun(gh, h.acme.id, 'acme/app', created.id, { status: 'completed', conclusion: 'neutral', output: { title: 'Done', summary: 'ok' } });
    expect(done).toMatchObject({ id: created.id, status: 'completed', conclusion: 'neutral', output: { title: 'Done' } });
  });

  it('cannot even be asked to complete without a conclusion', () => {
    // GitHub answers 422; the type refuses it first.
    // @ts-expect-error status completed needs a conclusion
    const fields: CheckRunFields = { status: 'completed' };
    expect(fields).toBeDefined();
  });
});

describe('webhook deliveries', () => {
  it('walks every page by cursor, newest first, and asks for a redelivery (202)', async () => {
    // No webhook URL: every delivery fails, as when the gateway is down.
    for (let i = 0; i < 3; i++) h.sim.createJob({ repository: 'acme/app', labels: ['x'] });
    const gh = h.client();
    const seen: HookDelivery[] = [];
    for await (const d of listDeliveries(gh, { status: 'failure', perPage: 2 })) seen.push(d);
    // Three jobs: three workflow_job and three workflow_run deliveries, on three pages.
    expect(seen).toHaveLength(6);
    expect(new Set(seen.map((d) => d.id)).size).toBe(6);
    const times = seen.map((d) => Date.parse(d.delivered_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const all: HookDelivery[] = [];
    for await (const d of listDeliveries(gh)) all.push(d);
    expect(all).toHaveLength(6);
    for await (const _ of listDeliveries(gh, { status: 'success' })) expect.unreachable('no delivery succeeded');

    const job = seen.find((d) => d.event === 'workflow_job')!;
    await redeliver(gh, job.id);
    const again = await h.sim.waitForDelivery((d) => d.guid === job.guid && d.redelivery, 5_000);
    expect(again.id).not.toBe(job.id);
  });
});

describe('workflow runs', () => {
  it('lists queued runs and their jobs, and in-progress runs once a runner took the job', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/web' };
    const job = h.sim.createJob({ repository: 'acme/web', labels: ['self-hosted', 'gpu'], durationMs: 60_000 });
    expect((await listRuns(gh, h.acme.id, 'acme/web', 'queued')).map((r) => r.id)).toEqual([job.runId]);
    expect(await listRuns(gh, h.acme.id, 'acme/web', 'in_progress')).toEqual([]);
    expect(await listRuns(gh, h.acme.id, 'acme/app', 'queued')).toEqual([]);
    expect((await listRunJobs(gh, h.acme.id, 'acme/web', job.runId)).map((j) => [j.id, j.status, j.labels])).toEqual([[job.id, 'queued', ['self-hosted', 'gpu']]]);

    const { encodedJitConfig } = await generateJitConfig(gh, scope, { name: 'rh-gpu-1', labels: ['self-hosted', 'gpu'] });
    const agent = await connectRunner(encodedJitConfig);
    expect((await agent.takeJob(5))?.id).toBe(job.id);
    expect((await listRuns(gh, h.acme.id, 'acme/web', 'in_progress')).map((r) => r.id)).toEqual([job.runId]);
    expect(await listRunJobs(gh, h.acme.id, 'acme/web', job.runId)).toMatchObject([{ id: job.id, status: 'in_progress', runner_name: 'rh-gpu-1' }]);
  });
});
