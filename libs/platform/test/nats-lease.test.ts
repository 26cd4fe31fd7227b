import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { startNatsServer, type NatsServer } from '@runnerhub/testing';
import { createLease, runWhileLeader, type Lease } from '../src/nats/index.js';
import { connectTest, memoryLog, sleep, waitFor } from './nats-support.js';

let server: NatsServer;
const conns: NatsConnection[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await server?.stop();
});

async function contender(key: string, holderId: string, ttlMs = 2_000) {
  const nc = await connectTest(server.url);
  conns.push(nc);
  const lost: string[] = [];
  const lease = createLease({ nc, bucket: `leases_${ttlMs}`, key, ttlMs, holderId, log: memoryLog(), onLost: (r) => lost.push(r) });
  return { nc, lease, lost };
}

describe('createLease', () => {
  it('is held by one of two contenders and passes to the other on release', async () => {
    const a = await contender('release', 'a');
    const b = await contender('release', 'b');
    const [gotA, gotB] = await Promise.all([a.lease.tryAcquire(), b.lease.tryAcquire()]);
    expect([gotA, gotB].filter(Boolean)).toHaveLength(1);
    const [holder, other] = gotA ? [a, b] : [b, a];
    expect(holder.lease.isHeld()).toBe(true);
    expect(other.lease.isHeld()).toBe(false);
    const firstRevision = holder.lease.revision!;
    expect(firstRevision).toBeGreaterThan(0);
    expect(holder.lease.signal().aborted).toBe(false);

    await holder.lease.release();
    expect(holder.lease.isHeld()).toBe(false);
    expect(holder.lease.signal().aborted).toBe(true);
    expect(await other.lease.tryAcquire()).toBe(true);
    expect(other.lease.revision!).toBeGreaterThan(firstRevision);
    expect(holder.lost).toEqual([]); // a release is not a loss
    await other.lease.release();
  });

  it('stays with a holder that keeps renewing, and passes on by expiry when the holder vanishes', async () => {
    const a = await contender('expiry', 'a');
    const b = await contender('expiry', 'b');
    expect(await a.lease.tryAcquire()).toBe(true);
    const firstRevision = a.lease.revision!;

    // Over two TTLs: renewals keep it with a, and b keeps being refused.
    const until = Date.now() + 4_500;
    while (Date.now() < until) {
      expect(await b.lease.tryAcquire()).toBe(false);
      await sleep(250);
    }
    expect(a.lease.isHeld()).toBe(true);
    expect(a.lease.revision!).toBeGreaterThan(firstRevision);

    // a's process "dies" (its connection goes away): b gets the key once the TTL expires it.
    await a.nc.close();
    await waitFor(() => b.lease.tryAcquire(), 'b to acquire after the TTL', 20_000);
    expect(b.lease.isHeld()).toBe(true);
    await waitFor(() => a.lost.length === 1, 'a to notice the loss');
    expect(a.lease.isHeld()).toBe(false);
    await b.lease.release();
  }, 40_000);

  it('tells a holder whose key was taken over that it lost the lease', async () => {
    const a = await contender('takeover', 'a');
    expect(await a.lease.tryAcquire()).toBe(true);
    // Someone deletes the key (an operator, or an expiry during a long pause): another holder takes it.
    const b = await contender('takeover', 'b');
    const kv = await new Kvm(b.nc).open('leases_2000');
    await kv.delete('takeover');
    expect(await b.lease.tryAcquire()).toBe(true);
    await waitFor(() => a.lost.length === 1, 'a to notice at its next renewal');
    expect(a.lease.isHeld()).toBe(false);
    expect(a.lease.signal().aborted).toBe(true);
    await b.lease.release();
  });
});

describe('runWhileLeader', () => {
  it('runs the work in one process at a time and hands over when the leader stops', async () => {
    const running = new Set<string>();
    let overlap = false;
    const starts: string[] = [];
    const loop = (id: string, lease: Lease) =>
      runWhileLeader(
        lease,
        async (signal) => {
          starts.push(id);
          running.add(id);
          if (running.size > 1) overlap = true;
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          running.delete(id);
        },
        { retryMs: 200, log: memoryLog() },
      );
    const a = await contender('loop', 'a');
    const b = await contender('loop', 'b');
    const la = loop('a', a.lease);
    const lb = loop('b', b.lease);
    await waitFor(() => starts.length === 1, 'one leader');
    await sleep(1_000);
    expect(starts).toHaveLength(1);
    const first = starts[0]!;
    await (first === 'a' ? la : lb).stop();
    await waitFor(() => starts.length === 2, 'the other takes over');
    expect(starts[1]).not.toBe(first);
    await (first === 'a' ? lb : la).stop();
    expect(overlap).toBe(false);
    expect(running.size).toBe(0);
  }, 30_000);
});
