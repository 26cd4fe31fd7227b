import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyAppJwt } from '../src/app-jwt.js';
import { Contract } from '../src/contract.js';
import { webhookExample } from '../src/templates.js';
import { signJwt } from './helpers.js';

describe('the OpenAPI contract checker', () => {
  const contract = new Contract();

  it('finds operations by method and concrete path, literal segments first', () => {
    expect(contract.findOperation('GET', '/app/hook/deliveries')?.operationId).toBe('apps/list-webhook-deliveries');
    expect(contract.findOperation('POST', '/orgs/acme/actions/runners/generate-jitconfig')?.operationId).toBe(
      'actions/generate-runner-jitconfig-for-org',
    );
    expect(contract.findOperation('GET', '/no/such/thing')).toBeUndefined();
  });

  it('rejects a JIT request without a runner group and an empty label list', () => {
    const route = contract.findOperation('POST', '/repos/acme/app/actions/runners/generate-jitconfig')!;
    expect(contract.checkRequest(route, {}, { name: 'r', runner_group_id: 1, labels: ['x'] })).toEqual([]);
    const errors = contract.checkRequest(route, {}, { name: 'r', labels: [] });
    expect(errors.join('\n')).toMatch(/runner_group_id/);
    expect(errors.join('\n')).toMatch(/fewer than 1 items/);
  });

  it('rejects a response missing required fields and an undocumented status', () => {
    const route = contract.findOperation('GET', '/repos/acme/app/actions/runners/5')!;
    expect(contract.checkResponse(route, 200, { id: 5, name: 'r' }).join('\n')).toMatch(/required property 'os'/);
    expect(contract.checkResponse(route, 409, { message: 'x' })).toEqual([`status 409 is not a documented response of ${route.operationId}`]);
    // 401/403 are not listed per operation but must still be GitHub's error shape.
    expect(contract.checkResponse(route, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' })).toEqual([]);
    // Any request can fail validation, listed or not; the answer still has GitHub's shape.
    expect(contract.checkResponse(route, 422, { message: 'Validation Failed', errors: [{ resource: 'Runner', code: 'invalid' }], documentation_url: 'https://docs.github.com/rest' })).toEqual([]);
    expect(contract.checkResponse(route, 422, { errors: 'nope' }).join('\n')).toMatch(/response 422/);
  });

  it("accepts GitHub's own webhook examples and rejects a payload without workflow_job", () => {
    expect(contract.checkWebhook('workflow-job-queued', webhookExample('workflow_job', 5))).toEqual([]);
    expect(contract.checkWebhook('workflow-job-completed', webhookExample('workflow_job', 2))).toEqual([]);
    const broken = webhookExample('workflow_job', 5);
    delete broken['workflow_job'];
    expect(contract.checkWebhook('workflow-job-queued', broken).join('\n')).toMatch(/workflow_job/);
  });
});

describe('App JWT verification', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const app = { id: 42, clientId: 'Iv23liabc', publicKey };
  const now = Date.now();
  const seconds = Math.floor(now / 1000);
  const message = (jwt: string): string | undefined => {
    try {
      verifyAppJwt(jwt, app, now);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('accepts iss = app id and iss = client id', () => {
    expect(message(signJwt(pem, { iss: 42, iat: seconds - 60, exp: seconds + 540 }))).toBeUndefined();
    expect(message(signJwt(pem, { iss: 'Iv23liabc', iat: seconds - 60, exp: seconds + 540 }))).toBeUndefined();
  });

  it("answers with github.com's messages", () => {
    expect(message(signJwt(pem, { iss: 42, iat: seconds - 700, exp: seconds - 100 }))).toMatch(/'Expiration time' claim \('exp'\) must be a numeric value/);
    expect(message(signJwt(pem, { iss: 42, iat: seconds, exp: seconds + 3600 }))).toBe("'Expiration time' claim ('exp') is too far in the future");
    expect(message(signJwt(pem, { iss: 42, iat: seconds + 600, exp: seconds + 660 }))).toMatch(/'Issued at' claim \('iat'\) must be an Integer/);
    expect(message(signJwt(pem, { iss: 43, iat: seconds, exp: seconds + 60 }))).toBe('A JSON web token could not be decoded');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(message(signJwt(other, { iss: 42, iat: seconds, exp: seconds + 60 }))).toBe('A JSON web token could not be decoded');
    expect(message('not-a-jwt')).toBe('A JSON web token could not be decoded');
  });
});
