import type { FastifyError } from 'fastify';
import type { SubjectMessages } from '@runnerhub/contracts';
import type { HttpServer, Logger, Publisher } from '@runnerhub/platform';
import { AppError } from '@runnerhub/platform';
import type { DeliveryLog } from './delivery-log.js';
import { startDeliverySpan } from './delivery-trace.js';
import type { RecentDeliveries } from './recent-deliveries.js';
import type { IntakeMetrics } from './metrics.js';
import { translate } from './translate.js';
import type { SourceAllowlist } from './source-allowlist.js';
import { checkHeaders, checkSignature, isRejection } from './verify.js';

export interface IntakeDeps {
  publisher: Publisher<SubjectMessages>;
  /** GUIDs already handed over: answers replays without a database round trip. */
  recent: RecentDeliveries;
  deliveryLog: DeliveryLog;
  /** Current secret first, then the previous one during a rotation. */
  secrets(): readonly [string, ...string[]];
  metrics: IntakeMetrics;
  log: Logger;
  bodyLimitBytes: number;
  /** When set, only these sources may deliver (GATEWAY_SOURCE_ALLOWLIST=github). */
  sourceAllowlist?: SourceAllowlist;
}

/**
 * POST /webhooks/github: verify, then persist to JetStream, then answer. 202 means the delivery is
 * on disk in JetStream (PubAck received); 503 means it is not, so GitHub records a failure and the
 * redelivery reconciler asks for it again. A GUID already handed over answers 200 and publishes nothing.
 */
export function registerWebhookIntake(app: HttpServer, deps: IntakeDeps): void {
  void app.register(async (scope) => {
    // The raw bytes are what GitHub signed: no JSON parser may touch the body before verification.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimitBytes }, (_req, body, done) => done(null, body));

    scope.post(
      '/webhooks/github',
      {
        schema: { hide: true },
        // No per-request child logger (a pino child with redaction costs a few µs per request):
        // this route's few log lines carry the delivery GUID, which says more than a request id.
        childLoggerFactory: (logger) => logger,
        errorHandler: (err: FastifyError, _req, reply) => {
          if (err.statusCode !== 413) throw err;
          deps.metrics.rejection('too_large');
          void reply.code(413).send({ error: 'payload_too_large', message: `body is larger than ${deps.bodyLimitBytes} bytes (WEBHOOK_BODY_LIMIT_BYTES)` });
        },
      },
      async (req, reply) => {
        const started = performance.now();
        const refused = deps.sourceAllowlist?.check(req.socket.remoteAddress, req.headers['x-forwarded-for']);
        if (refused) {
          deps.metrics.rejection('source_not_allowed');
          return reply.code(403).send({ error: 'source_not_allowed', message: refused });
        }
        const headers = checkHeaders(req.headers);
        if (isRejection(headers)) {
          deps.metrics.rejection(headers.reason);
          return reply.code(headers.status).send({ error: headers.reason, message: headers.message });
        }
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const bad = checkSignature(req.headers, body, deps.secrets());
        if (bad) {
          deps.metrics.rejection(bad.reason);
          req.log.warn({ delivery: headers.delivery, reason: bad.reason }, 'webhook refused');
          return reply.code(bad.status).send({ error: bad.reason, message: bad.message });
        }

        let payload: unknown;
        try {
          payload = JSON.parse(body.toString('utf8'));
        } catch {
          deps.metrics.delivery('invalid', headers.event, '');
          return reply.code(400).send({ error: 'invalid_json', message: 'body is not valid JSON' });
        }
        const receivedAt = new Date();
        const t = translate({ guid: headers.delivery, event: headers.event, hookId: headers.hookId, receivedAt, raw: body }, payload);
        if (t.kind === 'invalid') {
          deps.metrics.delivery('invalid', headers.event, '');
          return reply.code(400).send({ error: 'invalid_payload', message: t.message });
        }

        const record = { guid: headers.delivery, event: headers.event, action: t.action, installationId: t.installationId, hookId: headers.hookId, receivedAt };
        // Postgres is not on this path at all: the in-memory set answers replays, JetStream's dedup
        // window catches what another replica took, and the log is written behind the response.
        if (deps.recent.has(headers.delivery)) {
          deps.metrics.delivery('duplicate', headers.event, t.action);
          return reply.code(200).send({ status: 'duplicate', delivery: headers.delivery });
        }
        if (t.kind === 'ignored') {
          deps.recent.add(headers.delivery);
          deps.deliveryLog.record({ ...record, outcome: 'ignored' });
          deps.metrics.delivery('ignored', headers.event, t.action);
          return reply.code(202).send({ status: 'ignored', delivery: headers.delivery });
        }

        const span = startDeliverySpan({ event: headers.event, action: t.action, delivery: headers.delivery, message: t.message });
        try {
          const ack = await deps.publisher.publish(t.subject, t.message, { msgId: headers.delivery, traceContext: span.traceContext });
          span.end();
          deps.metrics.persisted((performance.now() - started) / 1000);
          deps.recent.add(headers.delivery);
          deps.deliveryLog.record({ ...record, outcome: 'published', subject: t.subject, streamSeq: ack.seq });
          deps.metrics.delivery(ack.duplicate ? 'duplicate' : 'published', headers.event, t.action);
          return reply.code(ack.duplicate ? 200 : 202).send({ status: ack.duplicate ? 'duplicate' : 'accepted', delivery: headers.delivery });
        } catch (err) {
          span.end((err as Error).message);
          if (!(err instanceof AppError) || err.kind !== 'unavailable') throw err;
          deps.deliveryLog.record({ ...record, outcome: 'failed', error: err.message });
          deps.metrics.delivery('unavailable', headers.event, t.action);
          req.log.warn({ delivery: headers.delivery, err: err.message }, 'JetStream did not take the delivery; answered 503 so GitHub records a failure');
          return reply.code(503).send({ error: 'unavailable', message: 'could not persist the delivery; it will be redelivered' });
        }
      },
    );
  });
}
