import { describe, expect, it } from 'vitest';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves with the first truthy result, treating errors as "not yet"', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('not up');
        return calls >= 3 ? { ready: calls } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ ready: 3 });
  });

  it('names what it waited for and the last error when it gives up', async () => {
    await expect(
      waitFor(
        async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        },
        { timeoutMs: 50, intervalMs: 5, what: 'Postgres to accept connections' },
      ),
    ).rejects.toThrow(/Timed out after 50 ms waiting for Postgres to accept connections \(last error: connect ECONNREFUSED/);
  });

  it('gives up on time even when a check never settles', async () => {
    const started = Date.now();
    await expect(waitFor(() => new Promise<boolean>(() => undefined), { timeoutMs: 100, what: 'a hung probe' })).rejects.toThrow(
      /a hung probe \(last check still running\)/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
