import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sign, verifyWithFallback } from '@octokit/webhooks-methods';
import { checkHeaders, checkSignature } from './verify.js';

const headers = (signature: string) => ({ 'x-hub-signature-256': signature });

describe('checkSignature', () => {
  it('agrees with @octokit/webhooks-methods on any UTF-8 body and signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 20 }), fc.boolean(), async (body, secret, good) => {
        const signature = good ? await sign(secret, body) : await sign(`${secret}x`, body);
        const ours = checkSignature(headers(signature), Buffer.from(body), [secret]) === undefined;
        expect(ours).toBe(await verifyWithFallback(secret, body, signature, []));
        expect(ours).toBe(good);
      }),
      { numRuns: 200 },
    );
  });

  it('tries the previous secret during a rotation, and only then', async () => {
    const body = Buffer.from('{"action":"queued"}');
    const byOld = await sign('old', body.toString());
    expect(checkSignature(headers(byOld), body, ['new', 'old'])).toBeUndefined();
    expect(checkSignature(headers(byOld), body, ['new'])).toMatchObject({ status: 401, reason: 'bad_signature' });
  });

  it('checks the bytes GitHub signed, even when they are not valid UTF-8', () => {
    const body = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const signature = `sha256=${createHmac('sha256', 's').update(body).digest('hex')}`;
    expect(checkSignature(headers(signature), body, ['s'])).toBeUndefined();
    expect(checkSignature(headers(signature), Buffer.from(body.toString('utf8')), ['s'])).toMatchObject({ reason: 'bad_signature' });
  });

  it('refuses a missing, truncated or differently cased signature and an empty body', () => {
    const body = Buffer.from('{}');
    const good = `sha256=${createHmac('sha256', 's').update(body).digest('hex')}`;
    expect(checkSignature({}, body, ['s'])).toMatchObject({ status: 401, reason: 'missing_signature' });
    expect(checkSignature(headers(good.slice(0, -1)), body, ['s'])).toMatchObject({ reason: 'bad_signature' });
    expect(checkSignature(headers(good.toUpperCase()), body, ['s'])).toMatchObject({ reason: 'bad_signature' });
    expect(checkSignature(headers(good), Buffer.alloc(0), ['s'])).toMatchObject({ status: 400, reason: 'empty_body' });
  });
});

describe('checkHeaders', () => {
  const base = { 'content-type': 'application/json', 'x-github-event': 'workflow_job', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-github-hook-id': '42' };
  it('takes what GitHub sends and refuses, naming the header, what would key the log or a subject badly', () => {
    expect(checkHeaders(base)).toEqual({ event: 'workflow_job', delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958', hookId: '42' });
    const refused: Array<[string, string, string]> = [
      ['x-github-event', 'Workflow Job', 'X-GitHub-Event'],
      ['x-github-event', 'gh.>', 'X-GitHub-Event'],
      ['x-github-event', 'e'.repeat(65), 'X-GitHub-Event'],
      ['x-github-delivery', 'a b', 'X-GitHub-Delivery'],
      ['x-github-delivery', 'g'.repeat(101), 'X-GitHub-Delivery'],
      ['x-github-delivery', 'caf\u00e9', 'X-GitHub-Delivery'],
      ['x-github-hook-id', 'hook-1', 'X-GitHub-Hook-ID'],
    ];
    for (const [name, value, header] of refused) {
      expect(checkHeaders({ ...base, [name]: value }), `${name}: ${value}`).toMatchObject({ status: 400, reason: 'invalid_header', message: expect.stringContaining(header) as unknown });
    }
  });
});
