import {
  create,
  DockerInJobMode,
  NetworkMode,
  PoolIntake,
  PlacementPolicy,
  PoolDefinitionSchema,
  PoolScopeKind,
  PoolSource,
  PullPolicy,
  timestampNow,
  type PoolDefinition,
} from '@runnerhub/contracts';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';
import { namedPlatforms } from './pool-platform.js';
import { scheduleProblem } from './warm-schedule.js';

/**
 * Pools declared in a YAML file (POOLS_FILE): the source of truth for the pools it names, reconciled
 * at start and on reload. Errors name the pool and the field, so a typo is fixed in one read.
 *
 *   pools:
 *     - name: linux
 *       repository: acme/app        # or org: acme
 *       labels: [docker]
 *       image: ghcr.io/actions/actions-runner:latest
 *       cpus: 2
 *       memoryMb: 4096
 *       minIdle: 1
 *       max: 4
 *       warmSchedules:              # weekdays 8:00–18:00 Berlin time: 3 warm runners
 *         - { cron: "0 8 * * 1-5", durationMinutes: 600, minIdle: 3, timezone: Europe/Berlin }
 *     - name: nat                   # intake scaleset: no webhooks; jobs say runs-on: nat
 *       org: acme
 *       intake: scaleset
 *       image: ghcr.io/actions/actions-runner:latest
 *
 * The admin API takes the same fields as JSON (one pool per request); docs/pools.md lists them all.
 */

const NAME = '^[a-z0-9][a-z0-9-]{0,30}$';

const WarmScheduleYaml = Type.Object(
  {
    cron: Type.String({ minLength: 1, description: 'five-field cron expression: when the window opens' }),
    durationMinutes: Type.Integer({ minimum: 1, maximum: 7 * 24 * 60, description: 'how long the window stays open' }),
    minIdle: Type.Integer({ minimum: 0 }),
    timezone: Type.String({ default: 'UTC' }),
  },
  { additionalProperties: false },
);

export const PoolSpec = Type.Object(
  {
    name: Type.String({ pattern: NAME, description: 'lower-case letters, digits and -, at most 31 characters' }),
    org: Type.Optional(Type.String({ minLength: 1 })),
    repository: Type.Optional(Type.String({ pattern: '^[^/\\s]+/[^/\\s]+$' })),
    // Required for webhook pools; scale-set pools are targeted by their name alone (validatePoolSpec).
    labels: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50, default: [] }),
    intake: Type.String({ default: 'webhook', description: 'webhook, scaleset or both (docs/pools.md#intake)' }),
    runnerGroup: Type.String({ default: 'Default' }),
    image: Type.String({ minLength: 1 }),
    command: Type.Array(Type.String(), { default: ['/home/runner/run.sh'] }),
    cpus: Type.Number({ exclusiveMinimum: 0, maximum: 256, default: 2 }),
    memoryMb: Type.Integer({ minimum: 64, default: 4096 }),
    pids: Type.Integer({ minimum: 16, default: 4096 }),
    minIdle: Type.Integer({ minimum: 0, default: 0 }),
    warmSchedules: Type.Array(WarmScheduleYaml, { default: [], maxItems: 20 }),
    max: Type.Integer({ minimum: 0, default: 4 }),
    idleTimeoutSeconds: Type.Integer({ minimum: 0, default: 600 }),
    bootTimeoutSeconds: Type.Integer({ minimum: 10, default: 300 }),
    maxLifetimeSeconds: Type.Integer({ minimum: 0, default: 6 * 3600 }),
    priority: Type.Integer({ default: 0 }),
    hostSelector: Type.Record(Type.String(), Type.String(), { default: {} }),
    placement: Type.Union([Type.Literal('pack'), Type.Literal('spread')], { default: 'pack' }),
    network: Type.Union([Type.Literal('per-runner'), Type.Literal('pool')], { default: 'per-runner' }),
    env: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String(), { default: {} }),
    secretEnv: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String(), { default: {} }),
    cacheVolumes: Type.Array(Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }), path: Type.String({ pattern: '^/' }), readOnly: Type.Boolean({ default: false }) }), { default: [] }),
    dockerInJob: Type.Union([Type.Literal('none'), Type.Literal('scoped'), Type.Literal('sysbox')], { default: 'none', description: "Docker for the job's steps, container: and services: none; scoped (a Docker endpoint that sees only the job's objects); sysbox (an inner daemon, hosts with sysbox-runc only). docs/pools.md#docker-in-jobs" }),
    pullPolicy: Type.Union([Type.Literal('if-missing'), Type.Literal('always'), Type.Literal('never')], { default: 'if-missing' }),
    readOnlyRoot: Type.Boolean({ default: false }),
    sudo: Type.Boolean({ default: false, description: 'privileged steps: keep what sudo needs and lift no-new-privileges for this pool (docs/pools.md#sudo)' }),
    allowPublicRepositories: Type.Boolean({ default: false, description: "run jobs of public repositories (anyone's pull request can reach a self-hosted runner; docs/security.md#public-repositories)" }),
    allowForkPullRequests: Type.Boolean({ default: false, description: 'with allowPublicRepositories: also jobs of pull requests from forks (code from anyone)' }),
    expectedStartSeconds: Type.Integer({ minimum: 0, default: 300 }),
    checkRuns: Type.Boolean({ default: true, description: 'explain unmatched, stuck and failed-to-start jobs as check runs' }),
    jobReports: Type.Boolean({ default: false, description: 'a check run with queue time, host and resources when a job completes' }),
  },
  { additionalProperties: false },
);
export type PoolSpec = Omit<Static<typeof PoolSpec>, 'intake'> & { intake: Intake };

export const INTAKES = ['webhook', 'scaleset', 'both'] as const;
export type Intake = (typeof INTAKES)[number];
const isIntake = (value: string): value is Intake => (INTAKES as readonly string[]).includes(value);

export class PoolFileError extends Error {}

/** A pool spec with its defaults filled in, or a PoolFileError naming `where` and every bad field. */
function intakeProblems(pool: { name?: unknown; intake?: unknown; labels?: unknown }, where: string): string[] {
  if (typeof pool.intake !== 'string') return [];
  if (!isIntake(pool.intake)) return [`${where}.intake: must be webhook, scaleset or both, not ${JSON.stringify(pool.intake)}`];
  const labels = Array.isArray(pool.labels) ? pool.labels.length : 0;
  if (pool.intake === 'webhook' && labels === 0) return [`${where}.labels: a webhook pool needs at least one label (jobs reach it by its labels)`];
  if (pool.intake !== 'webhook' && labels > 0) {
    const name = String(pool.name);
    return [
      `${where}.labels: a pool with intake ${pool.intake} is GitHub's runner scale set ${name}, which jobs reach by its name alone (runs-on: ${name}); remove labels (github.com ignores a scale set's other labels)`,
    ];
  }
  return [];
}

export function validatePoolSpec(raw: unknown, where: string): PoolSpec {
  const withDefaults = Value.Default(PoolSpec, structuredClone(raw));
  const problems = [...Value.Errors(PoolSpec, withDefaults)].map((e) => `${where}${e.path.replace(/\//g, '.') || ''}: ${e.message}`);
  // Checked with the schema's problems, so one error still lists every bad field.
  problems.push(...intakeProblems(withDefaults as { name?: unknown; intake?: unknown; labels?: unknown }, where));
  if (problems.length > 0) throw new PoolFileError(problems.slice(0, 10).join('\n'));
  const pool = withDefaults as PoolSpec;
  if (Boolean(pool.org) === Boolean(pool.repository)) throw new PoolFileError(`${where}: give exactly one of org or repository`);
  const { architectures, oses } = namedPlatforms(pool.labels);
  if (architectures.length > 1) throw new PoolFileError(`${where}.labels: name ${architectures.join(' and ')}; a runner runs on one architecture (one pool per architecture)`);
  if (oses.length > 1) throw new PoolFileError(`${where}.labels: name ${oses.join(' and ')}; a runner runs on one OS`);
  if (pool.allowForkPullRequests && !pool.allowPublicRepositories) throw new PoolFileError(`${where}.allowForkPullRequests: forks are a question of public repositories only; set allowPublicRepositories: true as well, or drop it`);
  if (pool.sudo && pool.readOnlyRoot) throw new PoolFileError(`${where}.sudo: sudo steps (package installs) write to the root filesystem, which readOnlyRoot makes read-only; choose one`);
  if (pool.minIdle > pool.max) throw new PoolFileError(`${where}.minIdle: ${pool.minIdle} is above max ${pool.max}`);
  pool.warmSchedules.forEach((w, i) => {
    const problem = scheduleProblem(w.cron, w.timezone);
    if (problem) throw new PoolFileError(`${where}.warmSchedules.${i}: ${problem}`);
    if (w.minIdle > pool.max) throw new PoolFileError(`${where}.warmSchedules.${i}.minIdle: ${w.minIdle} is above max ${pool.max}`);
  });
  return pool;
}

export function parsePoolFile(text: string): PoolSpec[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new PoolFileError(`not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list: unknown = (document as { pools?: unknown } | null)?.pools ?? [];
  if (!Array.isArray(list)) throw new PoolFileError('expected a top-level "pools:" list');
  const seen = new Set<string>();
  return (list as unknown[]).map((raw, index) => {
    const where = `pools[${index}]${typeof (raw as { name?: unknown })?.name === 'string' ? ` (${(raw as { name: string }).name})` : ''}`;
    const pool = validatePoolSpec(raw, where);
    if (seen.has(pool.name)) throw new PoolFileError(`${where}.name: ${pool.name} is declared twice`);
    seen.add(pool.name);
    return pool;
  });
}

/** The wire definition other services read from the `rh-pools` bucket. */
export function toDefinition(pool: PoolSpec, source: PoolSource, drained = false): PoolDefinition {
  const owner = pool.org ?? pool.repository!.split('/')[0]!;
  return create(PoolDefinitionSchema, {
    name: pool.name,
    scope: {
      kind: pool.repository ? PoolScopeKind.REPOSITORY : PoolScopeKind.ORGANIZATION,
      organization: owner,
      repository: pool.repository ?? '',
    },
    labels: pool.labels,
    runnerGroup: pool.runnerGroup,
    image: pool.image,
    command: pool.command,
    limits: { cpus: pool.cpus, memoryBytes: BigInt(pool.memoryMb) * 1024n * 1024n, pidsLimit: pool.pids },
    minIdle: pool.minIdle,
    warmSchedules: pool.warmSchedules.map((w) => ({ cron: w.cron, durationSeconds: w.durationMinutes * 60, minIdle: w.minIdle, timezone: w.timezone })),
    maxRunners: pool.max,
    idleTimeoutSeconds: pool.idleTimeoutSeconds,
    bootTimeoutSeconds: pool.bootTimeoutSeconds,
    maxLifetimeSeconds: pool.maxLifetimeSeconds,
    priority: pool.priority,
    hostSelector: pool.hostSelector,
    placement: pool.placement === 'spread' ? PlacementPolicy.SPREAD : PlacementPolicy.PACK,
    networkMode: pool.network === 'pool' ? NetworkMode.POOL : NetworkMode.PER_RUNNER,
    env: pool.env,
    secretEnv: pool.secretEnv,
    cacheVolumes: pool.cacheVolumes.map((v) => ({ name: v.name, mountPath: v.path, readOnly: v.readOnly })),
    dockerInJob: { none: DockerInJobMode.NONE, scoped: DockerInJobMode.SCOPED, sysbox: DockerInJobMode.SYSBOX }[pool.dockerInJob],
    pullPolicy: { 'if-missing': PullPolicy.IF_MISSING, always: PullPolicy.ALWAYS, never: PullPolicy.NEVER }[pool.pullPolicy],
    readOnlyRoot: pool.readOnlyRoot,
    sudo: pool.sudo,
    allowPublicRepositories: pool.allowPublicRepositories,
    allowForkPullRequests: pool.allowForkPullRequests,
    expectedStartSeconds: pool.expectedStartSeconds,
    source,
    drained,
    reporting: { checkRuns: pool.checkRuns, jobReports: pool.jobReports },
    intake: { webhook: PoolIntake.WEBHOOK, scaleset: PoolIntake.SCALE_SET, both: PoolIntake.BOTH }[pool.intake],
    updatedAt: timestampNow(),
  });
}
