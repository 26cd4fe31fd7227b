import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks a delivery before anything else looks at it: content type, the two headers every GitHub
 * delivery carries, then the HMAC of the raw bytes (constant time, against the current secret and,
 * during a rotation, the previous one). Rejections never say which secret or which part matched.
 */

export type RejectReason = 'unsupported_media_type' | 'missing_event' | 'missing_delivery' | 'invalid_header' | 'empty_body' | 'missing_signature' | 'bad_signature';

export interface Rejection {
  status: 400 | 401 | 415;
  reason: RejectReason;
  message: string;
}

export interface DeliveryHeaders {
  event: string;
  delivery: string;
  hookId: string | undefined;
}

type Headers = Record<string, string | string[] | undefined>;

const one = (h: Headers, name: string) => {
  const v = h[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
};

/** GitHub's event names are lower-case words; the name is a metric label and a subject token. */
const EVENT = /^[a-z0-9_]{1,64}$/;
/**
 * A GUID from GitHub; other senders' ids must still be printable ASCII without spaces and at most 100
 * characters (the admin API's bound): it keys the delivery log and is the Nats-Msg-Id.
 */
const DELIVERY = /^[\x21-\x7e]{1,100}$/;
const HOOK_ID = /^[0-9]{1,20}$/;

const invalidHeader = (name: string, rule: string): Rejection => ({ status: 400, reason: 'invalid_header', message: `${name} ${rule}` });

export function checkHeaders(h: Headers): DeliveryHeaders | Rejection {
  const type = one(h, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    return { status: 415, reason: 'unsupported_media_type', message: 'content type must be application/json: set the webhook content type to application/json on GitHub' };
  }
  const event = one(h, 'x-github-event');
  if (!event) return { status: 400, reason: 'missing_event', message: 'missing X-GitHub-Event header' };
  const delivery = one(h, 'x-github-delivery');
  if (!delivery) return { status: 400, reason: 'missing_delivery', message: 'missing X-GitHub-Delivery header' };
  if (!EVENT.test(event)) return invalidHeader('X-GitHub-Event', 'must be an event name of at most 64 lower-case letters, digits and "_"');
  if (!DELIVERY.test(delivery)) return invalidHeader('X-GitHub-Delivery', 'must be at most 100 printable characters without spaces');
  const hookId = one(h, 'x-github-hook-id');
  if (hookId !== undefined && !HOOK_ID.test(hookId)) return invalidHeader('X-GitHub-Hook-ID', 'must be digits');
  return { event, delivery, hookId };
}

/**
 * The HMAC runs over the raw bytes GitHub signed (no UTF-8 round trip), synchronously: the same
 * check as @octokit/webhooks-methods' verifyWithFallback (`sha256=<lower-case hex>`, compared in
 * constant time, current secret first), without a string copy of the body and an await per secret.
 */
export function checkSignature(h: Headers, body: Buffer, secrets: readonly [string, ...string[]]): Rejection | undefined {
  const signature = one(h, 'x-hub-signature-256');
  if (!signature) return { status: 401, reason: 'missing_signature', message: 'missing X-Hub-Signature-256 header: give the GitHub App a webhook secret' };
  if (body.length === 0) return { status: 400, reason: 'empty_body', message: 'empty body' };
  const given = Buffer.from(signature);
  for (const secret of secrets) {
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
  }
  return { status: 401, reason: 'bad_signature', message: 'signature does not match the payload' };
}

export function isRejection(v: DeliveryHeaders | Rejection | undefined): v is Rejection {
  return v !== undefined && 'reason' in v;
}
