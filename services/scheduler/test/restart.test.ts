import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  contractsCodec,
  create,
  githubSubject,
  POOL_DEFINITIONS_BUCKET,
  PoolDefinitionSchema,
  poolDefinitionKvSubject,
  streamDefinitions,
  WorkflowJobConclusion,
  WorkflowJobEventSchema,
  WorkflowJobStatus,
  type SubjectMessages,
  RepositoryVisibility,
} from '@runnerhub/contracts';
import { connectNats, createLogger, createPublisher, ensureStreams } from '@runnerhub/platform';
import { createTestDatabase, startNatsServer, startServiceProcess, waitFor, waitForReady, type NatsServer, type ServiceProcess, type TestDatabase } from '@runnerhub/testing';
import { Writable } from 'node:stream';
import pg from 'pg';

const log = createLogger({ service: 'test', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const JOBS = 40;

/** The real scheduler process, killed with SIGKILL in the middle of a stream of job events. */
describe('scheduler restart mid-stream', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let testDb: TestDatabase;
  let svc: ServiceProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connectNats({ servers: nats.url, name: 'test', log });
    await ensureStreams(nc, Object.values(streamDefinitions));
    const kv = await new Kvm(nc).create(POOL_DEFINITIONS_BUCKET, { history: 1 });
    await kv.put('small', contractsCodec.encode(poolDefinitionKvSubject('small'), create(PoolDefinitionSchema, { name: 'small', labels: ['docker'] })).data);
    testDb = await createTestDatabase('scheduler_restart');
    env = { NATS_URL: nats.url, DATABASE_URL: testDb.url, LOG_LEVEL: 'warn' };
  }, 60_000);

  afterAll(async () => {
    svc?.kill('SIGKILL');
    await svc?.exited;
    await nc?.close();
    await nats?.stop();
    await testDb?.drop();
  });

  const ready = async (s: ServiceProcess) =>
    waitForReady(s);

  it('loses nothing and counts nothing twice', async () => {
    svc = await startServiceProcess('scheduler', env);
    await ready(svc);
    const pub = createPublisher<SubjectMessages>(nc, contractsCodec);
    const ev = (id: number, status: WorkflowJobStatus, extra: { runnerId?: bigint; runnerName?: string; conclusion?: WorkflowJobConclusion } = {}) =>
      create(WorkflowJobEventSchema, { jobId: BigInt(id), runId: 1n, runAttempt: 1, labels: ['self-hosted', 'docker'], status, repository: { owner: 'acme', name: 'app', fullName: 'acme/app', visibility: RepositoryVisibility.PRIVATE }, ...extra });
    let n = 0;
    for (let id = 1; id <= JOBS; id++) {
      await pub.publish(githubSubject('workflow_job', 'queued'), ev(id, WorkflowJobStatus.QUEUED), { msgId: `d-${++n}` });
      await pub.publish(githubSubject('workflow_job', 'in_progress'), ev(id, WorkflowJobStatus.IN_PROGRESS, { runnerId: BigInt(id), runnerName: `rh-small-${id}` }), { msgId: `d-${++n}` });
      await pub.publish(githubSubject('workflow_job', 'completed'), ev(id, WorkflowJobStatus.COMPLETED, { runnerId: BigInt(id), runnerName: `rh-small-${id}`, conclusion: WorkflowJobConclusion.SUCCESS }), { msgId: `d-${++n}` });
      if (id === JOBS / 2) {
        // Mid-stream, as a power cut would: no shutdown, no drain.
        svc.kill('SIGKILL');
        await svc.exited;
      }
    }
    svc = await startServiceProcess('scheduler', env);
    await ready(svc);

    const db = new pg.Pool({ connectionString: testDb.url, max: 1 });
    try {
      await waitFor(async () => (await db.query("SELECT count(*)::int AS n FROM scheduler.jobs WHERE status = 'completed'")).rows[0].n === JOBS, {
        timeoutMs: 60_000,
        what: `all ${JOBS} jobs completed`,
      });
      await waitFor(async () => (await db.query('SELECT count(*)::int AS n FROM scheduler.outbox')).rows[0].n === 0, { timeoutMs: 30_000, what: 'outbox drained' });
    } finally {
      await db.end();
    }
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('JOBS', { subjects_filter: 'job.>' });
    const completed = info.state.subjects?.['job.completed'] ?? 0;
    const queued = info.state.subjects?.['job.queued'] ?? 0;
    const started = info.state.subjects?.['job.started'] ?? 0;
    // Every job completed exactly once; a job can lack an earlier fact only if its completed event
    // was handled first, and no fact appears twice.
    expect(completed).toBe(JOBS);
    expect(queued).toBeLessThanOrEqual(JOBS);
    expect(started).toBeLessThanOrEqual(JOBS);
    expect(queued).toBeGreaterThan(0);
  }, 180_000);
});
