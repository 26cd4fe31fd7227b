import { Type } from '@sinclair/typebox';
import { redeliver, type GitHubClient } from '@runnerhub/github';
import { notFound, unavailable, type HttpServer } from '@runnerhub/platform';
import { findDelivery, type ReconcileSummary } from './redelivery.js';

const Summary = Type.Object({
  scanned: Type.Integer({ description: 'GitHub deliveries read' }),
  guids: Type.Integer(),
  missing: Type.Integer({ description: 'GUIDs that never succeeded and that we do not have' }),
  requested: Type.Integer({ description: 'Redeliveries asked for in this cycle' }),
  recovered: Type.Integer({ description: 'Earlier requests that have since arrived' }),
  stoppedBy: Type.Union([Type.String(), Type.Null()]),
});

/** Admin API: run the redelivery reconciler now; ask GitHub to redeliver one GUID. */
export function registerRedeliveryRoutes(app: HttpServer, deps: { gh: GitHubClient | undefined; runNow(): Promise<ReconcileSummary> }): void {
  const github = (): GitHubClient => {
    if (!deps.gh) throw unavailable('no GitHub App is configured (GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY): redelivery needs the App');
    return deps.gh;
  };
  app.post(
    '/api/reconciler/run',
    { schema: { summary: 'Run the redelivery reconciler now (waits for a running cycle first)', response: { 200: Summary } } },
    async () => {
      github();
      return deps.runNow();
    },
  );
  app.post(
    '/api/deliveries/:guid/redeliver',
    {
      schema: {
        summary: "Ask GitHub to deliver one GUID again (its latest attempt, within GitHub's 3-day window)",
        params: Type.Object({ guid: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 202: Type.Object({ guid: Type.String(), githubDeliveryId: Type.String() }) },
      },
    },
    async (req, reply) => {
      const gh = github();
      const delivery = await findDelivery(gh, req.params.guid);
      if (!delivery) throw notFound(`GitHub has no delivery ${req.params.guid} in the last 3 days`);
      await redeliver(gh, delivery.id);
      return reply.code(202).send({ guid: delivery.guid, githubDeliveryId: String(delivery.id) });
    },
  );
}
