import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '@runnerhub/testing';
import { startLoop, type Loop } from '../src/loop.js';
import { connectTest, memoryLog, sleep, waitFor } from './nats-support.js';

let server: NatsServer;
let nc: NatsConnection;
const loops: Loop[] = [];
let n = 0;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTest(server.url);
});
afterEach(async () => {
  await Promise.all(loops.splice(0).map((l) => l.stop()));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

function track(l: Loop): Loop {
  loops.push(l);
  return l;
}

describe('startLoop', () => {
  it('runs at start and then every interval', async () => {
    let passes = 0;
    track(startLoop({ name: 'test.every', intervalMs: 100, log: memoryLog(), run: () => void passes++ }));
    await waitFor(() => passes >= 4, 'four passes');
    expect(passes).toBeGreaterThanOrEqual(4);
  });

  it('never runs two passes at once; a wake during a pass runs exactly one more after it', async () => {
    let inFlight = 0;
    let most = 0;
    let passes = 0;
    let release!: () => void;
    const loop = track(
      startLoop({
        name: 'test.single',
        intervalMs: 60_000,
        log: memoryLog(),
        run: async () => {
          inFlight++;
          most = Math.max(most, inFlight);
          passes++;
          if (passes === 1) await new Promise<void>((r) => (release = r));
          inFlight--;
        },
      }),
    );
    await waitFor(() => passes === 1, 'the first pass');
    for (let i = 0; i < 5; i++) loop.wake();
    await sleep(50);
    expect(passes).toBe(1);
    release();
    await waitFor(() => passes === 2, 'the pass the wakes asked for');
    await sleep(100);
    expect(passes).toBe(2);
    expect(most).toBe(1);
  });

  it('logs once when passes start failing and once when they work again, and keeps running', async () => {
    const log = memoryLog();
    let passes = 0;
    track(
      startLoop({
        name: 'test.flaky',
        intervalMs: 20,
        log,
        failureMessage: 'the flaky thing is down',
        run: () => {
          passes++;
          if (passes >= 2 && passes <= 6) throw new Error('down');
        },
      }),
    );
    await waitFor(() => passes >= 9, 'passes after the failures');
    const lines = log.entries.filter((e) => e.level !== 'debug').map((e) => `${e.level}:${e.msg}`);
    expect(lines).toEqual(['warn:the flaky thing is down', 'info:test.flaky works again']);
  });

  it('stop() waits for the running pass, aborts its signal, and no pass runs after it', async () => {
    let passes = 0;
    let sawAbort = false;
    const loop = startLoop({
      name: 'test.stop',
      intervalMs: 10,
      log: memoryLog(),
      run: async (signal) => {
        passes++;
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        sawAbort = signal.aborted;
      },
    });
    await waitFor(() => passes === 1, 'a pass');
    await loop.stop();
    expect(sawAbort).toBe(true);
    await sleep(100);
    expect(passes).toBe(1);
  });

  it('with a lease, only one of two replicas runs passes, and the other takes over when it stops', async () => {
    n++;
    const lease = { nc, bucket: `loop_lease_${n}`, key: 'k', ttlMs: 1_500, retryMs: 100 };
    const ran = { a: 0, b: 0 };
    const a = startLoop({ name: 'test.leased', intervalMs: 30, log: memoryLog(), lease: { ...lease, holderId: 'a' }, run: () => void ran.a++ });
    await waitFor(() => ran.a > 0, 'replica a runs');
    const b = track(startLoop({ name: 'test.leased', intervalMs: 30, log: memoryLog(), lease: { ...lease, holderId: 'b' }, run: () => void ran.b++ }));
    b.wake();
    await sleep(500);
    expect(ran.b).toBe(0);
    await a.stop();
    const atStop = ran.a;
    await waitFor(() => ran.b > 0, 'replica b takes over');
    await sleep(200);
    expect(ran.a).toBe(atStop);
  });

  it('runNow() resolves after a pass that began after the call, even when one was already running', async () => {
    const order: string[] = [];
    let passes = 0;
    let release!: () => void;
    const loop = track(
      startLoop({
        name: 'test.run-now',
        intervalMs: 60_000,
        log: memoryLog(),
        run: async () => {
          const n = ++passes;
          order.push(`start ${n}`);
          if (n === 1) await new Promise<void>((r) => (release = r));
          order.push(`end ${n}`);
        },
      }),
    );
    await waitFor(() => passes === 1, 'the first pass');
    const done = loop.runNow().then(() => order.push('runNow resolved'));
    release();
    await done;
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'runNow resolved']);
  });

  it('refuses an interval that is not positive', () => {
    expect(() => startLoop({ name: 'test.bad', intervalMs: 0, log: memoryLog(), run: () => undefined })).toThrow(/intervalMs/);
  });
});
