import { describe, expect, it } from 'vitest';
import { createKeyedQueue } from './keyed-queue.js';

describe('createKeyedQueue', () => {
  it('runs one key in order and other keys alongside, and a failure does not block the next', async () => {
    const queue = createKeyedQueue();
    const order: string[] = [];
    const step = (name: string, ms: number, fail = false) => () =>
      new Promise<string>((resolve, reject) => setTimeout(() => (order.push(name), fail ? reject(new Error(name)) : resolve(name)), ms));
    const results = await Promise.allSettled([queue('a', step('a1', 30, true)), queue('a', step('a2', 1)), queue('b', step('b1', 5))]);
    expect(order).toEqual(['b1', 'a1', 'a2']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });
});
