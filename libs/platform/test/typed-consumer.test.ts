import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '@runnerhub/testing';
import { contractsCodec, create, CreateRunnerCommandSchema, RunnerExitedSchema, RunnerRemovedSchema, RunnerStartedSchema, type RunnerExited, type RunnerStarted, type SubjectMessages } from '@runnerhub/contracts';
import { createConsumer, createPublisher, ensureStreams, type Consumer, type ConsumeOutcome } from '../src/nats/index.js';
import { connectTest, deadStream, memoryLog, testStream, waitFor } from './nats-support.js';

let server: NatsServer;
let nc: NatsConnection;
const started: Consumer[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTest(server.url);
  await ensureStreams(nc, [deadStream, testStream('TYPED_RUNNERS', ['runner.>']), testStream('TYPED_CMD', ['cmd.executor.>'])]);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.stop(2_000)));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe('a consumer with one typed handler per subject', () => {
  it('hands each message to the handler of its subject, decoded as that subject’s type, and acks subjects it has no handler for', async () => {
    const seen: string[] = [];
    const outcomes: Array<[ConsumeOutcome, string]> = [];
    const c = await createConsumer<SubjectMessages, 'runner.*'>(nc, {
      name: 'typed.runners',
      stream: 'TYPED_RUNNERS',
      durable: 'typed-runners',
      filterSubject: 'runner.*',
      codec: contractsCodec,
      log: memoryLog(),
      onOutcome: (o, s) => outcomes.push([o, s]),
      handlers: {
        // The parameter types are the registry's: a wrong field name here does not compile.
        'runner.started': (m: RunnerStarted) => void seen.push(`started ${m.containerId}`),
        'runner.exited': (m: RunnerExited, ctx) => void seen.push(`exited ${m.exitCode} on ${ctx.subject}`),
      },
    });
    started.push(c);
    c.resume();
    const pub = createPublisher<SubjectMessages>(nc, contractsCodec);
    await pub.publish('runner.started', create(RunnerStartedSchema, { containerId: 'c1' }), { msgId: 't1' });
    await pub.publish('runner.removed', create(RunnerRemovedSchema, { detail: 'gone' }), { msgId: 't2' });
    await pub.publish('runner.exited', create(RunnerExitedSchema, { exitCode: 3 }), { msgId: 't3' });
    await waitFor(() => outcomes.length === 3, 'three outcomes');
    expect(seen).toEqual(['started c1', 'exited 3 on runner.exited']);
    expect(outcomes).toEqual([
      ['acked', 'runner.started'],
      ['acked', 'runner.removed'],
      ['acked', 'runner.exited'],
    ]);
  });

  it('matches a pattern key (one wildcard token) against the concrete subject', async () => {
    const hosts: string[] = [];
    const c = await createConsumer<SubjectMessages, `cmd.executor.${string}.create`>(nc, {
      name: 'typed.create',
      stream: 'TYPED_CMD',
      durable: 'typed-create',
      filterSubject: 'cmd.executor.h1.create',
      codec: contractsCodec,
      log: memoryLog(),
      handlers: { 'cmd.executor.*.create': (m, ctx) => void hosts.push(`${ctx.subject}:${m.image}`) },
    });
    started.push(c);
    c.resume();
    await createPublisher<SubjectMessages>(nc, contractsCodec).publish('cmd.executor.h1.create', create(CreateRunnerCommandSchema, { image: 'img:1' }), { msgId: 't4' });
    await waitFor(() => hosts.length === 1, 'the command');
    expect(hosts).toEqual(['cmd.executor.h1.create:img:1']);
  });

  it('refuses a declaration without any handler', async () => {
    await expect(
      createConsumer<SubjectMessages, 'runner.*'>(nc, { name: 'typed.none', stream: 'TYPED_RUNNERS', durable: 'typed-none', filterSubject: 'runner.*', codec: contractsCodec, log: memoryLog(), handlers: {} }),
    ).rejects.toThrow(/no handler/);
  });
});
