import { Type } from '@sinclair/typebox';
import type { HttpServer } from '@runnerhub/platform';
import type { ScaleSetIntake } from './scale-set-listener.js';

const Nullable = <T extends ReturnType<typeof Type.Integer | typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const Listener = Type.Object({
  pool: Type.String(),
  state: Type.Union([Type.Literal('waiting_for_lease'), Type.Literal('waiting_for_session'), Type.Literal('polling'), Type.Literal('retrying'), Type.Literal('stopped')]),
  scaleSetId: Nullable(Type.Integer()),
  sessionId: Nullable(Type.String()),
  sessionConflicts: Type.Integer({ description: '409s since the listener last asked for a session (a killed predecessor’s ghost session, or another listener)' }),
  announcedCapacity: Type.Integer(),
  messages: Type.Integer({ description: 'messages acknowledged by this process' }),
  facts: Type.Integer({ description: 'job facts published by this process' }),
  lastMessageId: Nullable(Type.Integer()),
  statistics: Type.Union([Type.Record(Type.String(), Type.Integer()), Type.Null()]),
  lastError: Nullable(Type.String()),
});

/** Admin API: the scale-set listeners of this replica (the one holding a pool's lease polls; the others wait for it). */
export function registerScaleSetRoutes(app: HttpServer, intake: ScaleSetIntake | undefined): void {
  app.get(
    '/api/scale-sets',
    {
      schema: {
        summary: "This replica's scale-set listeners, one per pool with intake scaleset or both",
        response: { 200: Type.Object({ listeners: Type.Array(Listener) }) },
      },
    },
    async () => ({ listeners: intake?.status() ?? [] }),
  );
}
