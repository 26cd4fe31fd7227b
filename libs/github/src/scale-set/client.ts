import { Type, type Static } from '@sinclair/typebox';
import type { GitHubClient, GitHubLog } from '../client.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry.js';
import type { RunnerScope } from '../runners.js';
import { ActionsServiceAuth } from './auth.js';
import { ScaleSetStatisticsSchema, type ScaleSetStatistics } from './messages.js';
import { MessageSession, SessionSchema } from './session.js';
import { Tenant } from './tenant.js';
import { describe } from './transport.js';

/**
 * GitHub's runner scale sets from RunnerHub's side (tools/github-sim/contracts/scale-set.md,
 * actions/scaleset client.go): runner groups, scale sets, JIT configs for their runners, runners
 * by id or name, and message sessions (session.ts). One client per scope (a repository or an
 * organization: the config URL the admin token is for).
 */

export interface ScaleSetClientOptions {
  /** GitHub's web URL (https://github.com, https://<ghes>); derived from the REST base URL when unset. */
  githubUrl?: string;
  /** One call gives up after this long. Default 30 s. */
  timeoutMs?: number;
  /** One long poll gives up after this long; GitHub answers an empty one after about 50 s. Default 90 s. */
  pollTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  userAgent?: string;
  log?: GitHubLog;
}

export interface RunnerGroupRef {
  id: number;
  name: string;
  isDefault: boolean;
}

export interface ScaleSet {
  id: number;
  name: string;
  runnerGroupId: number;
  runnerGroupName: string | undefined;
  /** The labels jobs target it by (its name unless GitHub honours more). */
  labels: string[];
  statistics: ScaleSetStatistics | undefined;
}

export interface ScaleSetRunner {
  id: number;
  name: string;
  /** 0 for a runner that is not a scale set's. */
  scaleSetId: number;
}

export interface ScaleSetInput {
  name: string;
  runnerGroupId: number;
  /** Default: the name (the name is the label). */
  labels?: string[];
  /** Default true: a single-use runner needs no self-update. */
  disableUpdate?: boolean;
}

const LabelSchema = Type.Object({ name: Type.String(), type: Type.Optional(Type.String()) });
const ScaleSetSchema = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  runnerGroupId: Type.Integer(),
  runnerGroupName: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Array(LabelSchema)),
  statistics: Type.Optional(Type.Union([ScaleSetStatisticsSchema, Type.Null()])),
});
const list = <T extends ReturnType<typeof Type.Object>>(item: T) => Type.Object({ count: Type.Integer({ minimum: 0 }), value: Type.Array(item) });
const RunnerGroupSchema = Type.Object({ id: Type.Integer(), name: Type.String(), isDefaultGroup: Type.Optional(Type.Boolean()) });
const RunnerSchema = Type.Object({ id: Type.Integer({ minimum: 1 }), name: Type.String(), runnerScaleSetId: Type.Optional(Type.Integer()) });
const JitSchema = Type.Object({ runner: RunnerSchema, encodedJITConfig: Type.String({ minLength: 1 }) });

const SCALE_SETS = '_apis/runtime/runnerscalesets';
const AGENTS = '_apis/distributedtask/pools/0/agents';

function toScaleSet(wire: Static<typeof ScaleSetSchema>): ScaleSet {
  return { id: wire.id, name: wire.name, runnerGroupId: wire.runnerGroupId, runnerGroupName: wire.runnerGroupName, labels: (wire.labels ?? []).map((l) => l.name), statistics: wire.statistics ?? undefined };
}

function toRunner(wire: Static<typeof RunnerSchema>): ScaleSetRunner {
  return { id: wire.id, name: wire.name, scaleSetId: wire.runnerScaleSetId ?? 0 };
}

export class ScaleSetClient {
  readonly auth: ActionsServiceAuth;
  private readonly tenant: Tenant;
  private readonly pollTimeoutMs: number;

  constructor(gh: GitHubClient, scope: RunnerScope, options: ScaleSetClientOptions = {}) {
    const transport = { policy: { ...DEFAULT_RETRY_POLICY, ...options.retry }, userAgent: options.userAgent ?? 'runnerhub', log: options.log };
    const timeoutMs = options.timeoutMs ?? 30_000;
    this.auth = new ActionsServiceAuth(gh, scope, transport, { githubUrl: options.githubUrl, timeoutMs });
    this.tenant = new Tenant(this.auth, transport, timeoutMs);
    this.pollTimeoutMs = options.pollTimeoutMs ?? 90_000;
  }

  /** A runner group by name (GitHub compares names case-insensitively); NotFoundError when there is none. */
  async runnerGroupByName(name: string): Promise<RunnerGroupRef> {
    const path = '_apis/runtime/runnergroups/';
    const found = await this.tenant.call('GET', path, { query: { groupName: name }, ok: [200], schema: list(RunnerGroupSchema) });
    const group = found.count === 1 ? found.value[0] : undefined;
    if (!group) {
      throw new NotFoundError({
        ...describe({ method: 'GET', url: new URL(path, (await this.auth.connection()).tenantUrl) }),
        status: 0,
        githubMessage: found.count === 0 ? `no runner group named ${name}` : `${found.count} runner groups named ${name}`,
        requestId: undefined,
      });
    }
    return { id: group.id, name: group.name, isDefault: group.isDefaultGroup ?? false };
  }

  /** The scale set of that name in the group, or undefined (names are unique per runner group). */
  async findScaleSet(runnerGroupId: number, name: string): Promise<ScaleSet | undefined> {
    const found = await this.tenant.call('GET', SCALE_SETS, { query: { runnerGroupId, name }, ok: [200], schema: list(ScaleSetSchema) });
    if (found.count > 1) throw new Error(`GitHub lists ${found.count} scale sets named ${name} in runner group ${runnerGroupId}`);
    return found.value[0] && toScaleSet(found.value[0]);
  }

  /** ScaleSetNotFoundError when it is gone. */
  async getScaleSet(id: number): Promise<ScaleSet> {
    return toScaleSet(await this.tenant.call('GET', `${SCALE_SETS}/${id}`, { ok: [200], schema: ScaleSetSchema }));
  }

  /** ConflictError when the name is taken in the group: find it instead. */
  async createScaleSet(input: ScaleSetInput): Promise<ScaleSet> {
    return toScaleSet(await this.tenant.call('POST', SCALE_SETS, { body: this.scaleSetBody(input), ok: [200], schema: ScaleSetSchema }));
  }

  /**
   * The scale set of that name in the named runner group, created when there is none. Two callers
   * racing to create it both end with the same one: the loser's 409 finds the winner's.
   */
  async ensureScaleSet(input: { name: string; runnerGroup: string; labels?: string[] }): Promise<ScaleSet> {
    const group = await this.runnerGroupByName(input.runnerGroup || 'Default');
    const found = await this.findScaleSet(group.id, input.name);
    if (found) return found;
    try {
      return await this.createScaleSet({ name: input.name, runnerGroupId: group.id, labels: input.labels });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const raced = await this.findScaleSet(group.id, input.name);
      if (!raced) throw error;
      return raced;
    }
  }

  async updateScaleSet(id: number, input: ScaleSetInput): Promise<ScaleSet> {
    return toScaleSet(await this.tenant.call('PATCH', `${SCALE_SETS}/${id}`, { body: this.scaleSetBody(input), ok: [200], schema: ScaleSetSchema }));
  }

  /** Refused (RunnerBusyError) while one of its runners runs a job. */
  async deleteScaleSet(id: number): Promise<void> {
    await this.tenant.call('DELETE', `${SCALE_SETS}/${id}`, { ok: [204], schema: undefined });
  }

  /**
   * Registers a runner of the scale set and answers its JIT config (hand it to the executor only,
   * never log it). RunnerExistsError when the name is taken — maybe by this very registration,
   * when an earlier answer was lost: find it by name and remove it, then register again.
   */
  async generateJitConfig(scaleSetId: number, input: { name: string; workFolder?: string }): Promise<{ runner: ScaleSetRunner; encodedJitConfig: string }> {
    const answer = await this.tenant.call('POST', `${SCALE_SETS}/${scaleSetId}/generatejitconfig`, { body: { name: input.name, workFolder: input.workFolder ?? '' }, ok: [200], schema: JitSchema });
    return { runner: toRunner(answer.runner), encodedJitConfig: answer.encodedJITConfig };
  }

  /** RunnerNotFoundError when there is no such runner. */
  async getRunner(id: number): Promise<ScaleSetRunner> {
    return toRunner(await this.tenant.call('GET', `${AGENTS}/${id}`, { ok: [200], schema: RunnerSchema }));
  }

  async findRunner(name: string): Promise<ScaleSetRunner | undefined> {
    const found = await this.tenant.call('GET', AGENTS, { query: { agentName: name }, ok: [200], schema: list(RunnerSchema) });
    if (found.count > 1) throw new Error(`GitHub lists ${found.count} runners named ${name}`);
    return found.value[0] && toRunner(found.value[0]);
  }

  /** RunnerBusyError while it runs a job; RunnerNotFoundError when it is gone already. */
  async removeRunner(id: number): Promise<void> {
    await this.tenant.call('DELETE', `${AGENTS}/${id}`, { ok: [204], schema: undefined });
  }

  /**
   * Opens the scale set's message session. SessionConflictError while another is active — a live
   * listener elsewhere, or the ghost of a killed one until GitHub expires it: wait, never crash.
   */
  async createSession(scaleSetId: number, ownerName: string): Promise<MessageSession> {
    const session = await this.tenant.call('POST', `${SCALE_SETS}/${scaleSetId}/sessions`, { body: { ownerName }, ok: [200], schema: SessionSchema });
    return new MessageSession(this.tenant, scaleSetId, session, this.pollTimeoutMs);
  }

  /** What a Go client sends: labels typed System (client.go:381-403), RunnerSetting as one object. */
  private scaleSetBody(input: ScaleSetInput): Record<string, unknown> {
    return {
      name: input.name,
      runnerGroupId: input.runnerGroupId,
      labels: (input.labels && input.labels.length > 0 ? input.labels : [input.name]).map((name) => ({ name, type: 'System' })),
      RunnerSetting: input.disableUpdate === false ? {} : { disableUpdate: true },
    };
  }
}
