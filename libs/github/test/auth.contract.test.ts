import { describe, expect, it } from 'vitest';
import { listInstallations, listRunners, repoInstallation, UnauthorizedError } from '../src/index.js';
import { appCallsSoFar, useSimulator } from './harness.js';

// App JWTs and installation tokens against the simulator, which checks JWTs (RS256, iss, iat/exp)
// and expires tokens after an hour of its own clock as GitHub does.

const h = useSimulator();

describe('App JWT', () => {
  it('is accepted with the client id or the App id as issuer', async () => {
    expect((await repoInstallation(h.client(), 'acme', 'app')).id).toBe(h.acme.id);
    expect((await repoInstallation(h.client({ clientId: undefined }), 'acme', 'app')).id).toBe(h.acme.id);
  });

  it('is signed again once after a 401, and a second 401 is an UnauthorizedError naming the call', async () => {
    const gh = h.client();
    h.sim.setFaults({ rest: [{ method: 'GET', path: '^/app/installations$', status: 401, times: 1 }] });
    const seen = [];
    for await (const installation of listInstallations(gh)) seen.push(installation.id);
    expect(seen).toEqual([h.acme.id]);

    h.sim.setFaults({ rest: [{ method: 'GET', path: '^/app/installations$', status: 401, times: 2 }] });
    const error = await listInstallations(gh)
      .next()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).message).toMatch(/^GET \/app\/installations: 401 /);
  });

  it("signs in GitHub's time when GitHub's clock is far ahead of ours", async () => {
    h.sim.advanceClock(2 * 3_600_000);
    expect((await repoInstallation(h.client(), 'acme', 'app')).id).toBe(h.acme.id);
  });
});

describe('installation tokens', () => {
  it('are minted once for five services starting at the same moment', async () => {
    // A slow token endpoint widens the window in which every service finds no token.
    h.sim.setFaults({ rest: [{ method: 'POST', path: '/access_tokens$', delayMs: 300 }] });
    const services = Array.from({ length: 5 }, () => h.client());
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    await Promise.all(services.map((gh) => listRunners(gh, scope)));
    expect(await appCallsSoFar(services[0]!)).toBe(1);
    const tokens = await Promise.all(services.map((gh) => gh.tokens.get(h.acme.id)));
    expect(new Set(tokens).size).toBe(1);
  });

  it('are refreshed once when GitHub expired them (an hour later at GitHub), and the call succeeds', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    await listRunners(gh, scope);
    const before = await gh.tokens.get(h.acme.id);
    h.sim.advanceClock(61 * 60_000);
    await expect(listRunners(gh, scope)).resolves.toEqual([]);
    expect(await gh.tokens.get(h.acme.id)).not.toBe(before);
    // GitHub's hour rolled over too, so its counter starts again: one token minted in the new hour.
    expect(await appCallsSoFar(gh)).toBe(1);
  });

  it('are dropped after a 401 and the call is retried once with a new one', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    h.sim.setFaults({ rest: [{ method: 'GET', path: '/actions/runners$', status: 401, times: 1 }] });
    await expect(listRunners(gh, scope)).resolves.toEqual([]);
    expect(await appCallsSoFar(gh)).toBe(2);
  });

  it('are refreshed only once per call: a persistent 401 is an UnauthorizedError that carries no token', async () => {
    const gh = h.client();
    const scope = { installationId: h.acme.id, repository: 'acme/app' };
    h.sim.setFaults({ rest: [{ method: 'GET', path: '/actions/runners$', status: 401 }] });
    const error = await listRunners(gh, scope).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(await appCallsSoFar(gh)).toBe(2);
    const token = await gh.tokens.get(h.acme.id);
    expect(JSON.stringify({ ...(error as UnauthorizedError), message: (error as Error).message })).not.toContain(token);
    expect((error as UnauthorizedError).url).toBe(`${h.sim.url}/repos/acme/app/actions/runners?per_page=100&page=1`);
  });
});
