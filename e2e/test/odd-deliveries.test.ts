import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '@runnerhub/testing';
import { startPlatform, type Platform } from '../src/index.js';

// Deliveries with values Postgres cannot store as they are (NUL, unpaired surrogates, over-long
// names) or GitHub could never send (a label with NUL, a run attempt past 2^32), through the whole
// platform: each job either runs, or is refused with a 4xx at the gateway; none is accepted and then
// lost in the dead letters (issue 19, item 4).

describe('odd deliveries through the whole platform', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:
  - name: odd
    repository: acme/app
    labels: [odd]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    max: 2
    idleTimeoutSeconds: 5
`,
    });
  }, 600_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const gatewayAnswers = (jobId: number) =>
    platform.sim.deliveries().filter((d) => d.event === 'workflow_job' && (d.payload as { workflow_job?: { id?: number } }).workflow_job?.id === jobId);

  it('runs a job whose names Postgres could not store as sent, with the names made storable', async () => {
    const { sim } = platform;
    // No command: the fake runner would put the name into GITHUB_JOB, and an environment holds no NUL
    // (the real runner puts the job's YAML key there, which cannot hold one).
    const job = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'odd'], name: 'build\u0000 \ud800 odd', workflowName: `${'w'.repeat(3000)}\u0000`, durationMs: 500 });
    await waitFor(() => sim.job(job.id)?.status === 'completed', { what: `the job to complete\n${platform.output()}`, timeoutMs: 180_000 });
    expect(sim.job(job.id)).toMatchObject({ conclusion: 'success', runnerName: expect.stringMatching(/^rh-odd-/) as unknown });
    expect(gatewayAnswers(job.id).map((d) => d.statusCode)).toEqual(expect.arrayContaining([202]));
    const stored = await waitFor(async () => {
      const r = await platform.api<{ jobName: string; workflowName: string; status: string }>('scheduler', `/api/jobs/${job.id}`);
      return r.status === 200 && r.body.status === 'completed' ? r.body : undefined;
    }, { what: 'the scheduler to see the job completed' });
    expect(stored.jobName).toBe('build\ufffd \ufffd odd');
    expect(stored.workflowName).toHaveLength(1000);
    await waitFor(async () => (await platform.containers()).length === 0, { what: 'the runner gone', timeoutMs: 60_000 });
    await waitFor(async () => (await platform.leftovers()).volumes.length === 0, { what: 'no runner volume left', timeoutMs: 10_000 });
  }, 240_000);

  it('refuses at the gateway, with a 4xx naming the field, the jobs GitHub could never send, and dead-letters nothing', async () => {
    const { sim } = platform;
    const nulLabel = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'odd', 'gpu\u0000'] });
    const attempt = sim.createJob({ repository: 'acme/app', labels: ['self-hosted', 'odd'], runAttempt: 4294967296 });
    for (const [job, field] of [
      [nulLabel, 'workflow_job.labels[2]'],
      [attempt, 'workflow_job.run_attempt'],
    ] as const) {
      const answer = await waitFor(() => gatewayAnswers(job.id)[0], { what: `the gateway's answer for job ${job.id}`, timeoutMs: 30_000 });
      expect(answer.statusCode, answer.responseBody).toBe(400);
      expect(JSON.parse(answer.responseBody)).toMatchObject({ error: 'invalid_payload', field });
    }
    // The scheduler never heard of them, and the dead letters are empty.
    for (const job of [nulLabel, attempt]) expect((await platform.api('scheduler', `/api/jobs/${job.id}`)).status).toBe(404);
    const jsm = await jetstreamManager(platform.nc);
    expect((await jsm.streams.info('DEAD')).state.messages).toBe(0);
    const refused = await platform.api<{ deliveries: Array<{ guid: string; lastError: string }> }>('webhook-gateway', '/api/deliveries?outcome=refused');
    expect(refused.body.deliveries.map((d) => d.lastError).join('\n')).toContain('workflow_job.labels[2]');
    for (const job of [nulLabel, attempt]) sim.cancelJob(job.id);
  }, 120_000);
});
