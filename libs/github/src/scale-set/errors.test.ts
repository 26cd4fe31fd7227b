import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, RunnerBusyError, UnauthorizedError, UnavailableError } from '../errors.js';
import { githubUrlOf } from './auth.js';
import { actionsError, actionsException, RunnerExistsError, RunnerNotFoundError, ScaleSetNotFoundError, SessionConflictError, SessionNotFoundError } from './errors.js';

const fields = (status: number, typeName: string | undefined) => ({ status, typeName, method: 'POST', url: 'https://broker/x', call: 'POST /x', githubMessage: 'm', requestId: undefined });

describe('actionsError', () => {
  it.each([
    ['GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionConflictException, GitHub.Actions.Runtime.WebApi', 409, SessionConflictError, ConflictError],
    ['GitHub.Actions.Runtime.WebApi.RunnerScaleSetNotFoundException, GitHub.Actions.Runtime.WebApi', 404, ScaleSetNotFoundError, NotFoundError],
    ['GitHub.Actions.Runtime.WebApi.RunnerScaleSetSessionNotFoundException', 404, SessionNotFoundError, NotFoundError],
    ['GitHub.DistributedTask.WebApi.TaskAgentExistsException, GitHub.DistributedTask.WebApi', 409, RunnerExistsError, ConflictError],
    ['AgentNotFoundException', 404, RunnerNotFoundError, NotFoundError],
    ['GitHub.DistributedTask.WebApi.JobStillRunningException', 400, RunnerBusyError, RunnerBusyError],
    [undefined, 503, UnavailableError, UnavailableError],
    ['GitHub.Services.Common.VssUnauthorizedException', 401, UnauthorizedError, UnauthorizedError],
  ] as const)('%s (%i)', (typeName, status, type, family) => {
    const error = actionsError(fields(status, typeName));
    expect(error).toBeInstanceOf(type);
    expect(error).toBeInstanceOf(family);
  });

  it('reads { typeName, message } through a byte order mark, and nothing from text', () => {
    expect(actionsException('\uFEFF{"typeName":"X, Y","message":"no"}')).toEqual({ typeName: 'X, Y', message: 'no' });
    expect(actionsException('Service Unavailable')).toEqual({ typeName: undefined, message: undefined });
  });
});

describe('githubUrlOf', () => {
  it.each([
    ['https://api.github.com', 'https://github.com'],
    ['https://api.octo.ghe.com', 'https://octo.ghe.com'],
    ['https://ghes.example/api/v3', 'https://ghes.example'],
    ['https://ghes.example/api/v3/', 'https://ghes.example'],
    ['http://127.0.0.1:8900', 'http://127.0.0.1:8900'],
  ])('%s → %s', (api, web) => expect(githubUrlOf(api)).toBe(web));
});
