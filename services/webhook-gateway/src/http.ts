import { Type } from '@sinclair/typebox';
import { notFound, type HttpServer } from '@runnerhub/platform';
import type { DeliveriesStore, DeliveryRow } from './deliveries.js';

const Delivery = Type.Object({
  guid: Type.String(),
  event: Type.String(),
  action: Type.String(),
  installationId: Type.Union([Type.String(), Type.Null()]),
  hookId: Type.Union([Type.String(), Type.Null()]),
  receivedAt: Type.String({ format: 'date-time' }),
  outcome: Type.Union([Type.Literal('published'), Type.Literal('ignored'), Type.Literal('failed'), Type.Literal('refused')]),
  subject: Type.Union([Type.String(), Type.Null()]),
  streamSeq: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
});

const toJson = (r: DeliveryRow) => ({ ...r, receivedAt: r.receivedAt.toISOString() });

/** Admin API: what arrived from GitHub and what became of it. */
export function registerDeliveryRoutes(app: HttpServer, deliveries: DeliveriesStore): void {
  app.get(
    '/api/deliveries',
    {
      schema: {
        summary: 'Recent webhook deliveries, newest first',
        querystring: Type.Object({
          event: Type.Optional(Type.String({ pattern: '^[a-z_]+$' })),
          outcome: Type.Optional(Type.Union([Type.Literal('published'), Type.Literal('ignored'), Type.Literal('failed'), Type.Literal('refused')])),
          before: Type.Optional(Type.String({ format: 'date-time', description: 'Page: only deliveries received before this time' })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }) },
      },
    },
    async (req) => {
      const { event, outcome, before, limit } = req.query;
      const rows = await deliveries.list({ event, outcome, limit, ...(before ? { before: new Date(before) } : {}) });
      return { deliveries: rows.map(toJson) };
    },
  );

  app.get(
    '/api/deliveries/:guid',
    {
      schema: {
        summary: 'One delivery by its X-GitHub-Delivery GUID',
        params: Type.Object({ guid: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: Delivery },
      },
    },
    async (req) => {
      const row = await deliveries.get(req.params.guid);
      if (!row) throw notFound(`no delivery ${req.params.guid}`);
      return toJson(row);
    },
  );
}
