import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks a delivery before anything else looks at it: content type, the two headers every GitHub
 * delivery carries, then the HMAC of the raw bytes (constant time, against the current secret and,
 * during a rotation, the previous one). Rejections never say which secret or which part matched.
 */

export type RejectReason = 'unsupported_media_type' | 'missing_event' | 'missing_delivery' | 'empty_body' | 'missing_signature' | 'bad_signature';

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

export function checkHeaders(h: Headers): DeliveryHeaders | Rejection {
  const type = one(h, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    return { status: 415, reason: 'unsupported_media_type', message: 'content type must be application/json: set the webhook content type to application/json on GitHub' };
  }
  const event = one(h, 'x-github-event');
  if (!event) return { status: 400, reason: 'missing_event', message: 'missing X-GitHub-Event header' };
  const delivery = one(h, 'x-github-delivery');
  if (!delivery) return { status: 400, reason: 'missing_delivery', message: 'missing X-GitHub-Delivery header' };
  return { event, delivery, hookId: one(h, 'x-github-hook-id') };
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
