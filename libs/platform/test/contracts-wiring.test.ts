import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServer } from '@runnerhub/testing';
import {
  contractsCodec,
  DeadLetterSchema,
  fromBinary,
  githubSubject,
  streamDefinitions,
  WorkflowJobStatus,
  type SubjectMessages,
} from '@runnerhub/contracts';
import { createConsumer, createPublisher, ensureStreams } from '../src/nats/index.js';
import { connectTest, memoryLog, waitFor } from './nats-support.js';

// The platform's NATS layer wired exactly as the services wire it: the real stream definitions and
// the protobuf codec generated from proto/.
describe('NATS layer with the real contracts', () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectTest(server.url);
    await ensureStreams(nc, Object.values(streamDefinitions));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('provisions every stream, drops a duplicate delivery id, and dead-letters a job event that always fails', async () => {
    const jsm = await jetstreamManager(nc);
    const names = (await jsm.streams.names().next()).sort();
    expect(names).toEqual(Object.keys(streamDefinitions).sort());

    const publisher = createPublisher<SubjectMessages>(nc, contractsCodec);
    const subject = githubSubject('workflow_job', 'queued');
    const event = { jobId: 42n, runId: 7n, labels: ['self-hosted', 'linux'], status: WorkflowJobStatus.QUEUED } as SubjectMessages[typeof subject];
    const first = await publisher.publish(subject, event, { msgId: 'delivery-guid-1' });
    const again = await publisher.publish(subject, event, { msgId: 'delivery-guid-1' });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);

    const seen: bigint[] = [];
    const consumer = await createConsumer<SubjectMessages, 'gh.workflow_job.>'>(nc, {
      name: 'test.always-fails',
      stream: 'GITHUB',
      durable: 'test-always-fails',
      filterSubject: 'gh.workflow_job.>',
      codec: contractsCodec,
      maxDeliver: 2,
      retryDelayMs: () => 100,
      log: memoryLog(),
      handler: (msg) => {
        seen.push(msg.jobId);
        throw new Error('scheduler database unavailable');
      },
    });
    consumer.resume();
    const dead = await waitFor(async () => {
      try {
        return await jsm.streams.getMessage('DEAD', { last_by_subj: 'dead.GITHUB.test-always-fails' });
      } catch {
        return undefined;
      }
    }, 'a dead letter');
    await consumer.stop();
    const letter = fromBinary(DeadLetterSchema, dead.data);
    expect(letter).toMatchObject({ stream: 'GITHUB', consumer: 'test-always-fails', subject, deliveries: 2, reason: expect.stringContaining('scheduler database unavailable') });
    expect(contractsCodec.decode(subject, letter.data)).toMatchObject({ jobId: 42n, labels: ['self-hosted', 'linux'] });
    expect(seen).toEqual([42n, 42n]);
  });
});
