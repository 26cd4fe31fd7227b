import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyAppJwt } from '../src/app-jwt.js';
import { Contract } from '../src/contract.js';
import { ScaleSetContract } from '../src/scale-set-contract.js';
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

describe('the scale-set contract checker', () => {
  const contract = new ScaleSetContract();
  const headers = { authorization: 'Bearer x.y.z', 'content-type': 'application/json' };
  const query = { 'api-version': '6.0-preview' };

  it('takes what actions/scaleset sends: a create with createdOn and RunnerSetting, a session with the zero id', () => {
    const scaleSet = { name: 'rh', runnerGroupId: 1, labels: [{ name: 'rh', type: 'System' }], RunnerSetting: { disableUpdate: true }, createdOn: '0001-01-01T00:00:00Z' };
    expect(contract.checkRequest('create-scale-set', { headers, query, body: scaleSet })).toEqual([]);
    const session = { ownerName: 'host', sessionId: '00000000-0000-0000-0000-000000000000' };
    expect(contract.checkRequest('create-session', { headers, query, body: session })).toEqual([]);
  });

  it('refuses a missing api-version, a label without a type, an unknown field and a body where none belongs', () => {
    const body = { name: 'rh', runnerGroupId: 1, labels: [{ name: 'rh' }], colour: 'red' };
    const errors = contract.checkRequest('create-scale-set', { headers, query: {}, body }).join('\n');
    expect(errors).toMatch(/api-version/);
    expect(errors).toMatch(/must have required property 'type'/);
    expect(errors).toMatch(/\(colour\)/);
    expect(contract.checkRequest('refresh-session', { headers, query, body: {} })).toEqual(['refresh-session takes no request body']);
    expect(contract.checkRequest('get-message', { headers: { authorization: 'Bearer q', accept: 'application/json' }, query: { sessionId: 's' }, body: undefined }).join('\n')).toMatch(/accept|x-scalesetmaxcapacity/);
  });

  it('checks the job messages inside a message body, known types strictly and unknown ones loosely', () => {
    const statistics = { totalAvailableJobs: 0, totalAcquiredJobs: 0, totalAssignedJobs: 1, totalRunningJobs: 0, totalRegisteredRunners: 0, totalBusyRunners: 0, totalIdleRunners: 0 };
    const message = (jobs: unknown[]): unknown => ({ messageId: 1, messageType: 'RunnerScaleSetJobMessages', body: JSON.stringify(jobs), statistics });
    expect(contract.checkResponse('get-message', 200, message([{ messageType: 'JobSomethingNew', anything: true }]))).toEqual([]);
    expect(contract.checkResponse('get-message', 200, message([{ messageType: 'JobAssigned', jobId: 'not-a-guid' }])).join('\n')).toMatch(/runnerRequestId/);
    expect(contract.checkResponse('get-message', 202, undefined)).toEqual([]);
    expect(contract.checkResponse('get-message', 409, { typeName: 'X', message: 'y' })).toEqual(['status 409 is not a documented response of get-message']);
    expect(contract.checkResponse('create-session', 409, { message: 'no typeName' }).join('\n')).toMatch(/typeName/);
  });

  it('names a source for every operation', () => {
    for (const operation of contract.operations()) expect(operation.source.length, operation.id).toBeGreaterThan(0);
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
