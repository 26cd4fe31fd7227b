import type { FastifyInstance, FastifyReply } from 'fastify';
import type { GitHubSim, InstallationInput, JitRunnerInput, JobInput, RateLimits, ScaleSetOptions } from './api.js';
import { GitHubHttpError } from './errors.js';

/** `/_sim/*`: the control surface for tests, the CLI and the demo (README "Control API"). */

async function answer(reply: FastifyReply, status: number, work: () => unknown): Promise<FastifyReply> {
  try {
    const body = await work();
    return await reply.code(status).send(body ?? {});
  } catch (error) {
    if (error instanceof GitHubHttpError) return reply.code(error.status).send({ message: error.message });
    if (error instanceof RangeError || error instanceof TypeError) return reply.code(400).send({ message: error.message });
    throw error;
  }
}

function requireObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new GitHubHttpError(400, 'expected a JSON object body');
  return body as Record<string, unknown>;
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) throw new GitHubHttpError(400, `${field} must be a non-empty string`);
  return value;
}

function requireStrings(body: Record<string, unknown>, field: string): string[] {
  const value = body[field];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new GitHubHttpError(400, `${field} must be an array of non-empty strings`);
  }
  return value as string[];
}

function optionalNumber(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new GitHubHttpError(400, `${field} must be a non-negative number`);
  return value;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  return body[field] === undefined ? undefined : requireString(body, field);
}

export function registerControlRoutes(server: FastifyInstance, sim: GitHubSim): void {
  server.get('/_sim/app', (_request, reply) => answer(reply, 200, () => ({ ...sim.app, webhookUrl: sim.webhook().url ?? null })));
  server.put('/_sim/app/webhook', (request, reply) =>
    answer(reply, 200, () => {
      const body = requireObject(request.body);
      sim.setWebhook({ url: optionalString(body, 'url'), secret: optionalString(body, 'secret') });
      return {};
    }),
  );

  server.post('/_sim/installations', (request, reply) =>
    answer(reply, 201, () => {
      const body = requireObject(request.body);
      const type = body['type'];
      if (type !== undefined && type !== 'Organization' && type !== 'User') throw new GitHubHttpError(400, 'type must be Organization or User');
      const input: InstallationInput = {
        account: requireString(body, 'account'),
        type,
        repositories: requireStrings(body, 'repositories'),
        permissions: body['permissions'] as InstallationInput['permissions'],
        repositorySelection: body['repositorySelection'] as InstallationInput['repositorySelection'],
      };
      return sim.createInstallation(input);
    }),
  );
  server.get('/_sim/installations', (_request, reply) => answer(reply, 200, () => sim.installations()));

  server.post('/_sim/jobs', (request, reply) =>
    answer(reply, 201, () => {
      const body = requireObject(request.body);
      const input: JobInput = {
        repository: requireString(body, 'repository'),
        labels: requireStrings(body, 'labels'),
        name: optionalString(body, 'name'),
        workflowName: optionalString(body, 'workflowName'),
        runId: optionalNumber(body, 'runId'),
        runAttempt: optionalNumber(body, 'runAttempt'),
        durationMs: optionalNumber(body, 'durationMs'),
        command: optionalString(body, 'command'),
        conclusion: optionalString(body, 'conclusion') as JobInput['conclusion'],
      };
      return sim.createJob(input);
    }),
  );
  server.get('/_sim/jobs', (request, reply) =>
    answer(reply, 200, () => {
      const status = (request.query as { status?: string }).status;
      return sim.jobs().filter((j) => !status || j.status === status);
    }),
  );
  server.get('/_sim/jobs/:id', (request, reply) =>
    answer(reply, 200, () => {
      const job = sim.job(Number((request.params as { id: string }).id));
      if (!job) throw new GitHubHttpError(404, 'Not Found');
      return job;
    }),
  );
  server.post('/_sim/jobs/:id/cancel', (request, reply) => answer(reply, 200, () => sim.cancelJob(Number((request.params as { id: string }).id))));

  server.get('/_sim/runners', (_request, reply) => answer(reply, 200, () => sim.runners()));
  server.get('/_sim/check-runs', (_request, reply) => answer(reply, 200, () => sim.checkRuns()));
  server.post('/_sim/runners', (request, reply) =>
    answer(reply, 201, () => {
      const body = requireObject(request.body);
      const input: JitRunnerInput = {
        repository: optionalString(body, 'repository'),
        org: optionalString(body, 'org'),
        name: requireString(body, 'name'),
        labels: requireStrings(body, 'labels'),
      };
      return sim.createJitRunner(input);
    }),
  );

  server.post('/_sim/runner-groups', (request, reply) =>
    answer(reply, 201, () => {
      const body = requireObject(request.body);
      return sim.createRunnerGroup({ org: requireString(body, 'org'), name: requireString(body, 'name') });
    }),
  );
  server.get('/_sim/scale-sets', (_request, reply) => answer(reply, 200, () => sim.scaleSets()));
  server.post('/_sim/scale-sets', (request, reply) =>
    answer(reply, 201, () => {
      const body = requireObject(request.body);
      return sim.createScaleSet({
        repository: optionalString(body, 'repository'),
        org: optionalString(body, 'org'),
        name: requireString(body, 'name'),
        runnerGroupId: optionalNumber(body, 'runnerGroupId'),
        labels: body['labels'] === undefined ? undefined : requireStrings(body, 'labels'),
      });
    }),
  );
  server.post('/_sim/scale-sets/:id/runners', (request, reply) =>
    answer(reply, 201, () => {
      const body = requireObject(request.body);
      return sim.createScaleSetRunner(Number((request.params as { id: string }).id), { name: requireString(body, 'name'), workFolder: optionalString(body, 'workFolder') });
    }),
  );
  server.put('/_sim/scale-sets/options', (request, reply) =>
    answer(reply, 200, () => {
      const body = requireObject(request.body);
      const options: ScaleSetOptions = {};
      for (const field of ['pollWaitMs', 'sessionIdleSeconds', 'adminTokenSeconds', 'queueTokenSeconds', 'jobCompletedDelayMs', 'reassignAfterSeconds'] as const) {
        const value = optionalNumber(body, field);
        if (value !== undefined) options[field] = value;
      }
      for (const field of ['customLabels', 'bom'] as const) {
        if (body[field] === undefined) continue;
        if (typeof body[field] !== 'boolean') throw new GitHubHttpError(400, `${field} must be a boolean`);
        options[field] = body[field];
      }
      sim.configureScaleSets(options);
      return {};
    }),
  );
  server.post('/_sim/scale-sets/expire-tokens', (request, reply) =>
    answer(reply, 200, () => {
      const body = requireObject(request.body);
      sim.expireScaleSetTokens({ admin: body['admin'] === true, queue: body['queue'] === true });
      return {};
    }),
  );
  server.get('/_sim/actions-requests', (_request, reply) => answer(reply, 200, () => sim.actionsRequests()));

  server.get('/_sim/deliveries', (_request, reply) => answer(reply, 200, () => sim.deliveries()));
  server.post('/_sim/ping', (_request, reply) => answer(reply, 202, () => sim.ping()));

  server.put('/_sim/faults', (request, reply) =>
    answer(reply, 200, () => {
      const body = requireObject(request.body);
      for (const rule of (body['rest'] as unknown[] | undefined) ?? []) {
        const path = (rule as { path?: unknown }).path;
        if (typeof path !== 'string') throw new GitHubHttpError(400, 'every rest fault needs a path (regular expression)');
        new RegExp(path);
      }
      sim.setFaults(body);
      return {};
    }),
  );
  server.delete('/_sim/faults', (_request, reply) =>
    answer(reply, 200, () => {
      sim.setFaults({});
      return {};
    }),
  );
  server.put('/_sim/rate-limits', (request, reply) =>
    answer(reply, 200, () => {
      const body = requireObject(request.body);
      const limits: RateLimits = {
        installation: optionalNumber(body, 'installation'),
        app: optionalNumber(body, 'app'),
        jitPerMinute: optionalNumber(body, 'jitPerMinute'),
      };
      sim.setRateLimits(Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)));
      return {};
    }),
  );
  server.post('/_sim/clock', (request, reply) =>
    answer(reply, 200, () => {
      const advanceMs = optionalNumber(requireObject(request.body), 'advanceMs') ?? 0;
      sim.advanceClock(advanceMs);
      return { now: new Date(sim.now()).toISOString() };
    }),
  );
  server.get('/_sim/violations', (_request, reply) => answer(reply, 200, () => sim.violations()));
}
