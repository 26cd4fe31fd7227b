import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyError } from 'fastify';
import type { SubjectMessages } from '@runnerhub/contracts';
import type { HttpServer, Logger, Publisher } from '@runnerhub/platform';
import { AppError, PublishTooLargeError } from '@runnerhub/platform';
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

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * POST /webhooks/github: verify, then persist to JetStream, then answer. 202 means the delivery is
 * on disk in JetStream (PubAck received); 503 means it is not, for a reason a retry can fix (NATS
 * down or slow), so GitHub records a failure and the redelivery reconciler asks for it again. What
 * can never be published is a 4xx naming the reason: a field out of its bounds (400, fields.ts), a
 * message larger than the NATS server takes (413). A GUID already handed over answers 200 and
 * publishes nothing.
 *
 * Served twice over one handler: from a raw Node handler in front of fastify for requests on the
 * socket (fastify's routing, hooks and reply cost ≈15 µs a request, a tenth of the whole), and as a
 * fastify route for `inject()` and a URL with a query string. Both read the raw bytes with the same
 * limit and answer the same.
 */
export function registerWebhookIntake(app: HttpServer, deps: IntakeDeps): void {
  const handle = intakeHandler(deps);
  const tooLarge = (): Answer => {
    deps.metrics.rejection('too_large');
    return { status: 413, body: { error: 'payload_too_large', message: `body is larger than ${deps.bodyLimitBytes} bytes (WEBHOOK_BODY_LIMIT_BYTES)` } };
  };

  void app.register(async (scope) => {
    // The raw bytes are what GitHub signed: no JSON parser may touch the body before verification.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimitBytes }, (_req, body, done) => done(null, body));

    scope.post(
      '/webhooks/github',
      {
        // Signed by GitHub (HMAC) rather than by an admin token.
        config: { public: true },
        schema: { summary: 'GitHub webhook deliveries (X-Hub-Signature-256, no admin token); 202 once on disk in JetStream' },
        // No per-request child logger (a pino child with redaction costs a few µs per request):
        // this route's few log lines carry the delivery GUID, which says more than a request id.
        childLoggerFactory: (logger) => logger,
        errorHandler: (err: FastifyError, _req, reply) => {
          if (err.statusCode !== 413) throw err;
          const a = tooLarge();
          void reply.code(a.status).send(a.body);
        },
      },
      async (req, reply) => {
        const a = await handle(req.headers, Buffer.isBuffer(req.body) ? req.body : EMPTY, req.socket.remoteAddress);
        return reply.code(a.status).send(a.body);
      },
    );
  });

  app.rawRoute('POST', '/webhooks/github', (req, res, answer) => {
    const fail = (err: unknown) => {
      // What fastify's error handler would answer (AppError by its kind, anything else 500).
      if (err instanceof AppError) {
        if (err.status >= 500) deps.log.warn({ err }, 'request failed');
        answer(err.status, { error: err.kind, message: err.message, ...(err.details ? { details: err.details } : {}) });
      } else {
        deps.log.error({ err }, 'unhandled error');
        answer(500, { error: 'internal', message: 'internal error' });
      }
    };
    const done = (a: Answer) => answer(a.status, a.body);
    const limit = deps.bodyLimitBytes;
    const declared = Number(req.headers['content-length']);
    const refuseTooLarge = () => {
      // The rest of the body is not read: close the connection rather than drain it.
      res.shouldKeepAlive = false;
      done(tooLarge());
      req.resume();
    };
    if (declared > limit) return refuseTooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        return refuseTooLarge();
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      handle(req.headers, body, req.socket.remoteAddress).then(done, fail);
    });
    // An aborted request has nobody to answer; 'close' without 'end' needs nothing from us.
    req.on('error', () => undefined);
  });
}

const EMPTY = Buffer.alloc(0);

function intakeHandler(deps: IntakeDeps) {
  return async (reqHeaders: IncomingHttpHeaders, body: Buffer, remoteAddress: string | undefined): Promise<Answer> => {
    const started = performance.now();
    const refused = deps.sourceAllowlist?.check(remoteAddress, reqHeaders['x-forwarded-for']);
    if (refused) {
      deps.metrics.rejection('source_not_allowed');
      return { status: 403, body: { error: 'source_not_allowed', message: refused } };
    }
    const headers = checkHeaders(reqHeaders);
    if (isRejection(headers)) {
      deps.metrics.rejection(headers.reason);
      return { status: headers.status, body: { error: headers.reason, message: headers.message } };
    }
    const bad = checkSignature(reqHeaders, body, deps.secrets());
    if (bad) {
      deps.metrics.rejection(bad.reason);
      deps.log.warn({ delivery: headers.delivery, reason: bad.reason }, 'webhook refused');
      return { status: bad.status, body: { error: bad.reason, message: bad.message } };
    }

    // From here on the delivery is GitHub's own: what can never succeed is answered 4xx and logged
    // as refused (so the redelivery reconciler does not ask for it again), never 503.
    const receivedAt = new Date();
    const refuse = (status: number, error: string, message: string, action = ''): Answer => {
      deps.deliveryLog.record({ guid: headers.delivery, event: headers.event, action, installationId: 0n, hookId: headers.hookId, receivedAt, outcome: 'refused', error: message });
      return { status, body: { error, message } };
    };
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      deps.metrics.delivery('invalid', headers.event, '');
      return refuse(400, 'invalid_json', 'body is not valid JSON');
    }
    const t = translate({ guid: headers.delivery, event: headers.event, hookId: headers.hookId, receivedAt, raw: body }, payload);
    if (t.kind === 'invalid') {
      deps.metrics.delivery('invalid', headers.event, '');
      const a = refuse(400, 'invalid_payload', t.message);
      return { ...a, body: { ...a.body, field: t.field } };
    }

    const record = { guid: headers.delivery, event: headers.event, action: t.action, installationId: t.installationId, hookId: headers.hookId, receivedAt };
    // Postgres is not on this path at all: the in-memory set answers replays, JetStream's dedup
    // window catches what another replica took, and the log is written behind the response.
    if (deps.recent.has(headers.delivery)) {
      deps.metrics.delivery('duplicate', headers.event, t.action);
      return { status: 200, body: { status: 'duplicate', delivery: headers.delivery } };
    }
    if (t.kind === 'ignored') {
      deps.recent.add(headers.delivery);
      deps.deliveryLog.record({ ...record, outcome: 'ignored' });
      deps.metrics.delivery('ignored', headers.event, t.action);
      return { status: 202, body: { status: 'ignored', delivery: headers.delivery } };
    }

    const span = startDeliverySpan({ event: headers.event, action: t.action, delivery: headers.delivery, message: t.message });
    try {
      const ack = await deps.publisher.publish(t.subject, t.message, { msgId: headers.delivery, traceContext: span.traceContext });
      span.end();
      deps.metrics.persisted((performance.now() - started) / 1000);
      deps.recent.add(headers.delivery);
      deps.deliveryLog.record({ ...record, outcome: 'published', subject: t.subject, streamSeq: ack.seq });
      deps.metrics.delivery(ack.duplicate ? 'duplicate' : 'published', headers.event, t.action);
      return { status: ack.duplicate ? 200 : 202, body: { status: ack.duplicate ? 'duplicate' : 'accepted', delivery: headers.delivery } };
    } catch (err) {
      span.end((err as Error).message);
      if (err instanceof PublishTooLargeError) {
        deps.metrics.refusal('too_large_for_nats', headers.event, t.action);
        deps.log.warn({ delivery: headers.delivery, err: err.message }, 'delivery larger than NATS takes; answered 413');
        return refuse(413, 'payload_too_large', `${err.message}: raise max_payload in the NATS server's configuration, or lower WEBHOOK_BODY_LIMIT_BYTES to refuse such bodies at once`, t.action);
      }
      if (!(err instanceof AppError) || err.kind !== 'unavailable') throw err;
      deps.deliveryLog.record({ ...record, outcome: 'failed', error: err.message });
      deps.metrics.delivery('unavailable', headers.event, t.action);
      deps.log.warn({ delivery: headers.delivery, err: err.message }, 'JetStream did not take the delivery; answered 503 so GitHub records a failure');
      return { status: 503, body: { error: 'unavailable', message: 'could not persist the delivery; it will be redelivered' } };
    }
  };
}
