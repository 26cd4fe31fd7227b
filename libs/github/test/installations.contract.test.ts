import { describe, expect, it } from 'vitest';
import { listInstallationRepositories, listInstallations, NotFoundError, orgInstallation, repoInstallation } from '../src/index.js';
import { useSimulator } from './harness.js';

// Finding installations (App JWT) and what they cover (installation token), against the simulator.

const h = useSimulator();

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
};

describe('installations', () => {
  it('resolves the installation of a repository, an organization and a user account', async () => {
    const solo = h.sim.createInstallation({ account: 'solo', type: 'User', repositories: ['tool'] });
    const gh = h.client();
    expect(await repoInstallation(gh, 'acme', 'app')).toMatchObject({ id: h.acme.id, app_id: h.sim.app.id, target_type: 'Organization' });
    expect((await orgInstallation(gh, 'acme')).id).toBe(h.acme.id);
    expect((await repoInstallation(gh, 'solo', 'tool')).id).toBe(solo.id);
  });

  it('says NotFoundError, naming the call, where the App is not installed', async () => {
    const gh = h.client();
    const error = await orgInstallation(gh, 'nobody').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toMatch(/^GET \/orgs\/nobody\/installation: 404 Not Found/);
    await expect(repoInstallation(gh, 'acme', 'missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists every installation across pages', async () => {
    for (let i = 0; i < 104; i++) h.sim.createInstallation({ account: `org-${i}`, repositories: ['r'] });
    const all = await collect(listInstallations(h.client()));
    expect(all).toHaveLength(105);
    expect(new Set(all.map((i) => i.id)).size).toBe(105);
  });

  it("lists an installation's repositories across pages with its token", async () => {
    const big = h.sim.createInstallation({ account: 'big', repositories: Array.from({ length: 103 }, (_, i) => `repo-${i}`) });
    const gh = h.client();
    const repos = await collect(listInstallationRepositories(gh, big.id));
    expect(repos.map((r) => r.full_name).sort()).toEqual(Array.from({ length: 103 }, (_, i) => `big/repo-${i}`).sort());
    expect((await collect(listInstallationRepositories(gh, h.acme.id))).map((r) => r.full_name).sort()).toEqual(['acme/app', 'acme/web']);
  });
});
