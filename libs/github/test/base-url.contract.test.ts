import { describe, expect, it } from 'vitest';
import { generateJitConfig, listDeliveries, listInstallations, listRunners, repoInstallation } from '../src/index.js';
import { startGhesProxy, useSimulator } from './harness.js';

// GitHub Enterprise Server puts the API under https://<host>/api/v3. Every path the client builds,
// every page it follows, must stay under that base.

const h = useSimulator();

describe('a base URL with a path (GitHub Enterprise Server)', () => {
  it('keeps every call, every page and every cursor under /api/v3', async () => {
    const proxy = await startGhesProxy(h.sim.url);
    try {
      for (let i = 0; i < 101; i++) h.sim.createInstallation({ account: `org-${i}`, repositories: ['r'] });
      for (let i = 0; i < 2; i++) h.sim.createJob({ repository: 'acme/app', labels: ['x'] });
      const gh = h.client({ baseUrl: `${proxy.baseUrl}/` });
      expect((await repoInstallation(gh, 'acme', 'app')).id).toBe(h.acme.id);
      const scope = { installationId: h.acme.id, repository: 'acme/app' };
      await generateJitConfig(gh, scope, { name: 'rh-ghes-1', labels: ['x'] });
      expect((await listRunners(gh, scope, 'rh-ghes-')).map((r) => r.name)).toEqual(['rh-ghes-1']);
      let installations = 0;
      for await (const _ of listInstallations(gh)) installations += 1;
      expect(installations).toBe(102);
      let deliveries = 0;
      for await (const _ of listDeliveries(gh, { perPage: 1 })) deliveries += 1;
      expect(deliveries).toBe(4);
      expect(proxy.requests.filter((r) => !r.includes(' /api/v3/'))).toEqual([]);
      expect(proxy.requests.filter((r) => r.includes('cursor='))).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });
});
