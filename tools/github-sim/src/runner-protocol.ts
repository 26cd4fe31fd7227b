import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JobConclusion } from './api.js';
import { GitHubHttpError } from './errors.js';
import type { RunnerVersions } from './runner-versions.js';
import type { Runner, World } from './world.js';

/**
 * The runner's side of the simulator (README "Runner protocol"). GitHub's real equivalent is the
 * Actions broker, a private protocol; ours keeps its shape: a session per runner, a long poll for
 * the one job, renewals while it runs, a completion report.
 */

const CONCLUSIONS: JobConclusion[] = ['success', 'failure', 'cancelled'];
const MAX_WAIT_SECONDS = 50;

function runnerOf(world: World, request: FastifyRequest): Runner {
  const secret = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!secret) throw new GitHubHttpError(401, 'Requires authentication');
  const runner = world.runnerBySecret(secret);
  if (!runner) throw new GitHubHttpError(404, 'The runner registration has been deleted from the server');
  return runner;
}

function sessionRunner(world: World, request: FastifyRequest): Runner {
  const runner = runnerOf(world, request);
  const { sessionId } = request.params as { sessionId: string };
  if (runner.sessionId !== sessionId) throw new GitHubHttpError(404, `Session ${sessionId} does not exist`);
  return runner;
}

async function answer(reply: FastifyReply, work: () => Promise<{ status: number; body?: unknown }> | { status: number; body?: unknown }): Promise<FastifyReply> {
  try {
    const { status, body } = await work();
    return await reply.code(status).send(body);
  } catch (error) {
    if (!(error instanceof GitHubHttpError)) throw error;
    return reply.code(error.status).send({ message: error.message });
  }
}

export function registerRunnerProtocol(server: FastifyInstance, world: World, versions: RunnerVersions): void {
  server.post('/_runner/sessions', (request, reply) =>
    answer(reply, () => {
      const secret = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!secret) throw new GitHubHttpError(401, 'Requires authentication');
      const body = (request.body ?? {}) as { version?: string };
      const { sessionId } = world.openSession(secret, typeof body.version === 'string' ? body.version : 'unknown');
      return { status: 201, body: { sessionId } };
    }),
  );

  server.get('/_runner/sessions/:sessionId/message', (request, reply) =>
    answer(reply, async () => {
      const runner = sessionRunner(world, request);
      // An outdated runner keeps its session but is never given a job (runner-versions.ts).
      const tooOld = versions.tooOld(runner.version ?? '');
      if (tooOld) return { status: 403, body: { errorKind: 'RunnerVersionTooOld', statusCode: 403, message: tooOld } };
      const query = request.query as { waitSeconds?: string };
      const waitSeconds = Math.min(MAX_WAIT_SECONDS, Math.max(0, Number(query.waitSeconds ?? 30) || 0));
      const closed = new Promise<'closed'>((resolve) => request.raw.once('close', () => resolve('closed')));
      const outcome = await Promise.race([world.poll(runner, waitSeconds * 1000), closed]);
      if (outcome === 'closed') {
        // The runner went away mid-poll: it is no longer waiting for work.
        runner.waiter?.resolve({ kind: 'none' });
        return { status: 204 };
      }
      if (outcome.kind === 'deleted') throw new GitHubHttpError(404, 'The runner registration has been deleted from the server');
      if (outcome.kind === 'none') return { status: 204 };
      const job = outcome.job;
      return {
        status: 200,
        body: {
          type: 'job',
          job: {
            id: job.id,
            runId: job.run.id,
            name: job.name,
            repository: job.repo.fullName,
            durationMs: job.durationMs,
            command: job.command,
            conclusion: job.expectedConclusion,
          },
        },
      };
    }),
  );

  server.post('/_runner/jobs/:jobId/renew', (request, reply) =>
    answer(reply, () => ({ status: 200, body: world.renew(runnerOf(world, request), Number((request.params as { jobId: string }).jobId)) })),
  );

  server.post('/_runner/jobs/:jobId/complete', (request, reply) =>
    answer(reply, () => {
      const runner = runnerOf(world, request);
      const conclusion = (request.body as { conclusion?: string } | undefined)?.conclusion as JobConclusion;
      if (!CONCLUSIONS.includes(conclusion)) throw new GitHubHttpError(422, `conclusion must be one of ${CONCLUSIONS.join(', ')}`);
      world.complete(runner, Number((request.params as { jobId: string }).jobId), conclusion);
      return { status: 200, body: {} };
    }),
  );

  server.delete('/_runner/sessions/:sessionId', (request, reply) =>
    answer(reply, () => {
      const secret = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const runner = secret ? world.runnerBySecret(secret) : undefined;
      // Ephemeral runners are gone after their job; deleting their session is then a no-op, as
      // actions/runner expects (it ignores the 401 GitHub gives here).
      if (runner && runner.sessionId === (request.params as { sessionId: string }).sessionId) world.closeSession(runner);
      return { status: 204 };
    }),
  );
}
