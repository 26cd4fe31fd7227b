import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServer } from '@runnerhub/testing';
import { ensureStreams, type StreamDefinition } from '../src/nats/index.js';
import { connectTest } from './nats-support.js';

let server: NatsServer;
let a: NatsConnection;
let b: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  [a, b] = await Promise.all([connectTest(server.url), connectTest(server.url)]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await server?.stop();
});

const github: StreamDefinition = {
  name: 'GITHUB',
  subjects: ['gh.>'],
  retention: 'limits',
  maxAgeMs: 7 * 24 * 3600_000,
  duplicateWindowMs: 10 * 60_000,
  storage: 'file',
  discard: 'old',
};
const executor: StreamDefinition = {
  name: 'EXECUTOR',
  subjects: ['cmd.executor.>'],
  retention: 'workqueue',
  maxAgeMs: 24 * 3600_000,
  duplicateWindowMs: 2 * 60_000,
  storage: 'file',
  discard: 'new',
  maxMsgsPerSubject: 100,
};

describe('ensureStreams', () => {
  it('creates missing streams as defined, then changes nothing on the next run', async () => {
    expect(await ensureStreams(a, [github, executor])).toEqual({ GITHUB: 'created', EXECUTOR: 'created' });
    const info = await (await jetstreamManager(a)).streams.info('EXECUTOR');
    expect(info.config).toMatchObject({
      subjects: ['cmd.executor.>'],
      retention: 'workqueue',
      storage: 'file',
      discard: 'new',
      max_age: 24 * 3600_000 * 1e6,
      duplicate_window: 2 * 60_000 * 1e6,
      max_msgs_per_subject: 100,
    });
    expect(await ensureStreams(a, [github, executor])).toEqual({ GITHUB: 'unchanged', EXECUTOR: 'unchanged' });
  });

  it('updates a stream whose definition changed', async () => {
    const changed = { ...github, subjects: ['gh.>', 'ghx.>'], maxAgeMs: 3 * 24 * 3600_000 };
    expect(await ensureStreams(a, [changed])).toEqual({ GITHUB: 'updated' });
    const info = await (await jetstreamManager(a)).streams.info('GITHUB');
    expect(info.config.subjects).toEqual(['gh.>', 'ghx.>']);
    expect(info.config.max_age).toBe(3 * 24 * 3600_000 * 1e6);
    expect(await ensureStreams(a, [changed])).toEqual({ GITHUB: 'unchanged' });
  });

  it('is safe when two processes run it at once', async () => {
    const runs = await Promise.all([
      ensureStreams(a, [{ ...github, name: 'RACE', subjects: ['race.>'] }]),
      ensureStreams(b, [{ ...github, name: 'RACE', subjects: ['race.>'] }]),
    ]);
    expect(runs.map((r) => r.RACE).sort()).toEqual(expect.arrayContaining(['created']));
    const info = await (await jetstreamManager(a)).streams.info('RACE');
    expect(info.config.subjects).toEqual(['race.>']);
  });

  it('names the stream when the server cannot apply a change in place', async () => {
    await expect(ensureStreams(a, [{ ...executor, storage: 'memory' }])).rejects.toThrow(/stream EXECUTOR/);
  });

  it('rejects a duplicate window longer than the retention', async () => {
    await expect(ensureStreams(a, [{ ...github, name: 'BAD', subjects: ['bad.>'], maxAgeMs: 1_000, duplicateWindowMs: 60_000 }])).rejects.toThrow(
      /duplicateWindowMs/,
    );
  });
});
