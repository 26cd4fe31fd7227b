import { startTcpProxy } from '@runnerhub/testing';
import { describe, expect, it } from 'vitest';
import { generateJitConfig, listRunners, NotFoundError, getRunner, RateLimitedError, UnavailableError, ValidationError } from '../src/index.js';
import { useSimulator } from './harness.js';

// Rate limits, secondary limits, 5xx, network failures and timeouts against the simulator.

const h = useSimulator();

const rejection = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e);

describe('primary (hourly) rate limit', () => {
  it("is not spent past zero: the next call waits for GitHub's reset, in every service of the deployment", async () => {
    h.sim.setRateLimits({ installation: 2 });
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    await listRunners(gh, scope);
    await listRunners(gh, scope);
    // GitHub said `x-ratelimit-remaining: 0`: no service of this deployment sends another call.
    expect(await h.client().budget.canSpend(h.acme.id)).toMatchObject({ ok: false, remaining: 0, reason: 'exhausted' });
    const notSent = await rejection(listRunners(h.client(), scope));
    expect(notSent).toBeInstanceOf(RateLimitedError);
    expect(notSent).toMatchObject({ status: 0, secondary: false });
    expect((notSent as Error).message).toMatch(/^GET \/repos\/acme\/app\/actions\/runners: not sent: the hourly rate limit is spent/);
    // The simulator's window opened with the first call, an hour from then.
    expect(Math.abs((notSent as RateLimitedError).resetAt.getTime() - (h.sim.now() + 3_600_000))).toBeLessThan(5_000);
  });

  it("ends in RateLimitedError with GitHub's reset time when GitHub refuses (403, remaining 0)", async () => {
    h.sim.setRateLimits({ installation: 2 });
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    // Another deployment (its own Redis prefix) spent the installation's hour.
    await listRunners(h.client({ keyPrefix: `${h.prefix}:elsewhere` }), scope);
    await listRunners(h.client({ keyPrefix: `${h.prefix}:elsewhere` }), scope);
    const gh = h.client();
    const error = await rejection(listRunners(gh, scope));
    expect(error).toBeInstanceOf(RateLimitedError);
    const limited = error as RateLimitedError;
    expect(limited).toMatchObject({ status: 403, secondary: false });
    expect(limited.message).toMatch(/^GET \/repos\/acme\/app\/actions\/runners: 403 API rate limit exceeded for installation ID \d+\./);
    expect(limited.requestId).toMatch(/^SIM:/);
    expect(Math.abs(limited.resetAt.getTime() - (h.sim.now() + 3_600_000))).toBeLessThan(5_000);
    expect(limited.retryAfterMs).toBeGreaterThan(3_500_000);
    expect(await gh.budget.canSpend(h.acme.id)).toMatchObject({ ok: false, remaining: 0, reason: 'exhausted' });
  });
});

describe('secondary limit on JIT registration', () => {
  it('is a typed error when the wait is long, and blocks every installation of the App', async () => {
    h.sim.setRateLimits({ jitPerMinute: 3 });
    const other = h.sim.createInstallation({ account: 'globex', repositories: ['api'] });
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    for (const name of ['rh-1', 'rh-2', 'rh-3']) await generateJitConfig(gh, scope, { name, labels: ['x'] });
    const error = await rejection(generateJitConfig(gh, scope, { name: 'rh-4', labels: ['x'] }));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ status: 403, secondary: true });
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(50_000);
    expect((error as RateLimitedError).message).toMatch(/secondary rate limit/);

    // Another service, another installation: not even sent while GitHub's block runs.
    const notSent = await rejection(generateJitConfig(h.client(), { installationId: other.id, repository: 'globex/api' }, { name: 'rh-5', labels: ['x'] }));
    expect(notSent).toMatchObject({ status: 0, secondary: true });
    expect((await gh.budget.canSpend(h.acme.id)).reason).toBe('secondary');
    expect(h.sim.runners().map((r) => r.name).sort()).toEqual(['rh-1', 'rh-2', 'rh-3']);
  });

  it('is waited out when retry-after is short, and the registration succeeds', async () => {
    h.sim.setRateLimits({ jitPerMinute: 3 });
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    for (const name of ['rh-1', 'rh-2', 'rh-3']) await generateJitConfig(gh, scope, { name, labels: ['x'] });
    // 57 s later at GitHub the window frees in about 3 s: GitHub says retry-after 3.
    h.sim.advanceClock(57_000);
    const started = Date.now();
    const { runner } = await generateJitConfig(gh, scope, { name: 'rh-4', labels: ['x'] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(runner.name).toBe('rh-4');
  });

  it("is kept under by the App's own window shared across services: waiting for a slot or refusing", async () => {
    const prefix = h.prefix;
    const [a, b] = [h.client({ jitPerMinute: 2 }), h.client({ jitPerMinute: 2, keyPrefix: prefix })];
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    await generateJitConfig(a, scope, { name: 'rh-a', labels: ['x'] });
    await generateJitConfig(b, scope, { name: 'rh-b', labels: ['x'] });
    const refused = await rejection(generateJitConfig(a, scope, { name: 'rh-c', labels: ['x'] }));
    expect(refused).toMatchObject({ status: 0, secondary: true });
    expect((refused as RateLimitedError).message).toMatch(/^POST \/repos\/acme\/app\/actions\/runners\/generate-jitconfig: not sent/);
    expect(h.sim.runners().map((r) => r.name)).not.toContain('rh-c');

    // Two registrations made 59.7 s ago (in our window's eyes) free their slots in 300 ms.
    const waiting = h.client({ jitPerMinute: 2, keyPrefix: `${prefix}:other` });
    expect(await waiting.budget.takeJitSlot(Date.now() - 59_700)).toBe(0);
    expect(await waiting.budget.takeJitSlot(Date.now() - 59_700)).toBe(0);
    const started = Date.now();
    await generateJitConfig(waiting, scope, { name: 'rh-d', labels: ['x'], waitForSlotMs: 2_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });
});

describe('5xx and the network', () => {
  it('retries 5xx with backoff: three failures then success; four is UnavailableError', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    h.sim.setFaults({ rest: [{ method: 'POST', path: 'generate-jitconfig$', status: 502, times: 3 }] });
    await expect(generateJitConfig(gh, scope, { name: 'rh-1', labels: ['x'] })).resolves.toMatchObject({ runner: { name: 'rh-1' } });

    h.sim.setFaults({ rest: [{ method: 'GET', path: '/actions/runners$', status: 503, times: 4 }] });
    const error = await rejection(listRunners(gh, scope));
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).message).toMatch(/^GET \/repos\/acme\/app\/actions\/runners: 503 Server Error/);
  });

  it('never retries another 4xx', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    // Had the client retried, the second attempt would have succeeded.
    h.sim.setFaults({ rest: [{ method: 'POST', path: 'generate-jitconfig$', status: 422, times: 1 }] });
    await expect(generateJitConfig(gh, scope, { name: 'rh-1', labels: ['x'] })).rejects.toBeInstanceOf(ValidationError);
    expect(h.sim.runners()).toEqual([]);
    await expect(getRunner(gh, scope, 999_999)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('retries a call that got no answer, and gives up within its time budget', async () => {
    const proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: Number(new URL(h.sim.url).port) });
    try {
      const gh = h.client({ baseUrl: proxy.rewriteUrl(h.sim.url), retry: { attempts: 10, baseMs: 100, maxMs: 400, totalMs: 3_000 } });
      const scope = { installationId: h.acme.id, repository: 'acme/app' };
      await listRunners(gh, scope);
      await proxy.cut();
      setTimeout(() => void proxy.restore(), 300);
      await expect(listRunners(gh, scope)).resolves.toEqual([]);

      await proxy.cut();
      const started = Date.now();
      const error = await rejection(listRunners(gh, scope));
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error).toMatchObject({ status: 0 });
      expect((error as Error).message).toMatch(/^GET \/repos\/acme\/app\/actions\/runners: no answer/);
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      await proxy.close();
    }
  });

  it('abandons an attempt that hangs and tries again', async () => {
    const gh = h.client({ timeoutMs: 300 });
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    await listRunners(gh, scope);
    h.sim.setFaults({ rest: [{ method: 'GET', path: '/actions/runners$', delayMs: 2_000, times: 1 }] });
    const started = Date.now();
    await expect(listRunners(gh, scope)).resolves.toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
