import { describe, expect, it } from 'vitest';
import { createLifecycle } from './lifecycle.js';
import { createLogger } from './logging.js';
import { Writable } from 'node:stream';

const quiet = createLogger({ service: 't', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('lifecycle', () => {
  it('stops parts newest-first, after the shutdown-start hooks', async () => {
    const order: string[] = [];
    const l = createLifecycle(quiet, 5_000);
    l.onShutdownStart(() => order.push('not-ready'));
    l.onStop('postgres', async () => { order.push('postgres'); });
    l.onStop('consumers', async () => { order.push('consumers'); });
    l.onStop('http', () => { order.push('http'); });
    expect(await l.shutdown('test')).toBe(true);
    expect(order).toEqual(['not-ready', 'http', 'consumers', 'postgres']);
  });

  it('reports an unclean stop when a part fails, and still stops the parts after it', async () => {
    const stopped: string[] = [];
    const l = createLifecycle(quiet, 2_000);
    l.onStop('db', () => { stopped.push('db'); });
    l.onStop('broken', () => { throw new Error('boom'); });
    expect(await l.shutdown('test')).toBe(false);
    expect(stopped).toEqual(['db']);
  });

  it('gives up on a part that overruns the deadline', async () => {
    const l = createLifecycle(quiet, 300);
    l.onStop('stuck', () => new Promise<void>(() => undefined));
    const started = Date.now();
    expect(await l.shutdown('test')).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('runs shutdown once however often it is asked', async () => {
    let count = 0;
    const l = createLifecycle(quiet, 1_000);
    l.onStop('x', () => { count++; });
    await Promise.all([l.shutdown('a'), l.shutdown('b')]);
    expect(count).toBe(1);
  });
});
