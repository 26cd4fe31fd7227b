import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import type { Clients } from './client.js';
import { RUNNERHUB_CLI_VERSION } from './version.js';
import * as ops from './operations.js';

/**
 * `runnerhub mcp`: the CLI's operations as MCP tools over stdio. Each answers JSON text (and the
 * same as structured content) an assistant can read; a refusal comes back as a tool error with the
 * service's message, a 403 naming the scope. Read tools work with a read token; write tools say in
 * their description that they need a token of scope write.
 */

const WRITE = ' Changes the platform: needs a RunnerHub token of scope write (a read token gets 403).';
const READ = ' Read-only: a RunnerHub token of scope read is enough.';
const poolName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/).describe('the pool name, as list_pools shows it');

type Result = { content: { type: 'text'; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

const answer = async (work: () => Promise<unknown>): Promise<Result> => {
  try {
    const data = await work();
    const structured = Array.isArray(data) ? { items: data } : (data as Record<string, unknown>);
    return { content: [{ type: 'text', text: JSON.stringify(data, null, 2) }], structuredContent: structured };
  } catch (error) {
    return { content: [{ type: 'text', text: (error as Error).message }], isError: true };
  }
};

export function createMcpServer(c: Clients): McpServer {
  const server = new McpServer({ name: 'runnerhub', version: RUNNERHUB_CLI_VERSION });
  const read = { readOnlyHint: true, openWorldHint: false } as const;
  const write = { readOnlyHint: false, destructiveHint: false, openWorldHint: false } as const;

  server.registerTool(
    'status',
    { title: 'RunnerHub status', description: `Is RunnerHub healthy and what is it doing: each service's readiness and version, hosts, pools with their runners, waiting jobs with the oldest one's reason, dead letters, alerts firing.${READ}`, annotations: read },
    () => answer(() => ops.status(c)),
  );
  server.registerTool(
    'list_waiting_jobs',
    {
      title: 'Waiting jobs and why',
      description: `The queue: jobs waiting for a runner, oldest first, each with the scheduler's reason it still waits.${READ}`,
      inputSchema: { repo: z.string().regex(/^[^/\s]+\/[^/\s]+$/).optional().describe('only this repository, owner/name'), limit: z.number().int().min(1).max(100).optional().describe('at most this many (default 20)') },
      annotations: read,
    },
    ({ repo, limit }) => answer(() => ops.waitingWithWhy(c, { ...(repo ? { repo } : {}), ...(limit ? { limit } : {}) })),
  );
  server.registerTool(
    'why_job',
    { title: 'Why a job waits', description: `Why one job is still queued: a reason code, a sentence for a person, the closest pools and what they lack.${READ}`, inputSchema: { jobId: z.string().regex(/^[0-9]{1,20}$/).describe("GitHub's id of the job") }, annotations: read },
    ({ jobId }) => answer(() => ops.why(c, jobId)),
  );
  server.registerTool(
    'list_pools',
    { title: 'Pools', description: `Runner pools with their labels, image, warm minimum, runners by state, pending demand, drain state and last error.${READ}`, annotations: read },
    () => answer(() => ops.listPools(c)),
  );
  server.registerTool(
    'list_runners',
    { title: 'Runners', description: `Live runner containers, newest first: name, pool, host, state, job.${READ}`, inputSchema: { pool: poolName.optional() }, annotations: read },
    ({ pool }) => answer(() => ops.listRunners(c, pool ? { pool } : {})),
  );
  server.registerTool(
    'list_hosts',
    { title: 'Docker hosts', description: `Docker hosts with their CPU and memory budgets, containers and drain state.${READ}`, annotations: read },
    () => answer(() => ops.listHosts(c)),
  );
  server.registerTool(
    'provision_runners',
    {
      title: 'Provision runners',
      description: `Warm runners in a pool now and keep that many waiting for a while (the pool serves its repository or organization). Returns at once; list_pools shows them come up.${WRITE}`,
      inputSchema: { pool: poolName, count: z.number().int().min(1).max(100).describe('runners to keep waiting'), minutes: z.number().int().min(1).max(43_200).optional().describe('how long (default 60)') },
      annotations: write,
    },
    ({ pool, count, minutes }) => answer(() => ops.setPoolWarm(c, pool, count, (minutes ?? 60) * 60)),
  );
  server.registerTool(
    'remove_runner',
    {
      title: 'Remove a runner',
      description: `Remove one runner: its GitHub registration, then its container. A busy runner is kept unless force is true, which fails its job.${WRITE}`,
      inputSchema: { runner: z.string().min(1).describe('its name (rh-<pool>-<id>) or id, as list_runners shows it'), force: z.boolean().optional().describe('stop it even while it runs a job') },
      annotations: { ...write, destructiveHint: true },
    },
    ({ runner, force }) => answer(() => ops.removeRunner(c, runner, force ?? false)),
  );
  server.registerTool(
    'drain_pool',
    { title: 'Drain a pool', description: `Stop a pool (the autoscaler stops for it): no new runners, waiting ones go now, busy ones finish.${WRITE}`, inputSchema: { pool: poolName }, annotations: write },
    ({ pool }) => answer(() => ops.setPoolDrained(c, pool, true)),
  );
  server.registerTool(
    'resume_pool',
    { title: 'Resume a pool', description: `Start a drained pool again: it holds its warm minimum and serves jobs.${WRITE}`, inputSchema: { pool: poolName }, annotations: write },
    ({ pool }) => answer(() => ops.setPoolDrained(c, pool, false)),
  );
  server.registerTool(
    'drain_host',
    { title: 'Drain a host', description: `No new runners on a Docker host; waiting ones go now, busy ones finish. undrain: true takes it back.${WRITE}`, inputSchema: { host: z.string().min(1).max(253).describe('the host id, as list_hosts shows it'), undrain: z.boolean().optional() }, annotations: write },
    ({ host, undrain }) => answer(() => ops.setHostDrained(c, host, !undrain)),
  );
  return server;
}

export async function serveMcp(c: Clients): Promise<void> {
  const server = createMcpServer(c);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  // Until the client closes stdin.
  await new Promise<void>((done) => {
    transport.onclose = () => done();
    process.stdin.on('end', () => done());
  });
}
