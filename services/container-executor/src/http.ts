import { Type } from '@sinclair/typebox';
import type { HttpServer } from '@runnerhub/platform';
import type Docker from 'dockerode';
import { inventory, type HostSettings } from './host-state.js';

/** Admin API: what runs on this host, and draining it. */
export function registerExecutorRoutes(app: HttpServer, deps: { docker: Docker; host: HostSettings; setDraining(on: boolean): void }): void {
  app.get(
    '/api/containers',
    {
      schema: {
        summary: "This deployment's runner containers on this host",
        response: {
          200: Type.Object({
            host: Type.String(),
            containers: Type.Array(Type.Object({ containerId: Type.String(), name: Type.String(), runnerId: Type.String(), pool: Type.String(), jobId: Type.String(), state: Type.String() })),
          }),
        },
      },
    },
    async () => {
      const answer = await inventory(deps.docker, deps.host, 'admin');
      return { host: answer.host, containers: answer.containers.map((c) => ({ containerId: c.containerId, name: c.name, runnerId: c.runnerId, pool: c.pool, jobId: String(c.jobId), state: c.state })) };
    },
  );
  app.put(
    '/api/draining',
    {
      config: { scope: 'write' },
      schema: {
        summary: 'Drain the host: placement stops sending runners here (running ones finish)',
        body: Type.Object({ draining: Type.Boolean() }),
        response: { 200: Type.Object({ draining: Type.Boolean() }) },
      },
    },
    async (req) => {
      deps.setDraining(req.body.draining);
      return { draining: req.body.draining };
    },
  );
}
