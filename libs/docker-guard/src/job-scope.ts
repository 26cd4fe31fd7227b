import { matchesAny, normaliseImage, type Decision } from './policy.js';

function no(reason: string): { allow: false; reason: string } {
  return { allow: false, reason };
}

/**
 * The job-scoped Docker endpoint's policy (`dockerInJob: scoped`, issue 23): what one job's `docker`
 * commands, `container:` and `services:` may do through the endpoint its runner gets. Unlike the
 * executor's guard (container-create.ts), which allows only what our runner template makes, a job
 * runs images and commands of its own; so here a create is allowed whatever it runs, as long as it
 * reaches nothing outside the job: every field that could reach the host (privilege, host
 * namespaces, capabilities, devices, host paths, host ports, runtimes, cgroup parents) must be
 * absent or Docker's zero value, and the endpoint *sets* what makes the object the job's: its
 * labels, its network, the pool's limits and a name under the runner's prefix. The docker CLI sends
 * every HostConfig field, zero-valued, on each `docker run`; so "unknown key" is not a refusal here,
 * "unknown key with a value that is not zero" is (Docker matches field names without regard to
 * case: `privileged: true` is refused because it is not zero, not because of its spelling).
 *
 * Pure: the endpoint (services/socket-guard job-endpoint.ts) resolves names and images with Docker
 * and hands the answers in.
 */

/** Labels on everything a job makes. Not io.runnerhub.managed: the executor's sweeps and inventory count managed containers as runners. */
export const JOB_LABEL = {
  /** The runner (container name) whose job made the object; removed with that runner. */
  of: 'io.runnerhub.job-of',
  deployment: 'io.runnerhub.job-deployment',
} as const;

export interface JobScope {
  deploymentId: string;
  /** The runner container's name (rh-<pool>-<id>): objects are named `<runnerName>-<what the job said>`. */
  runnerName: string;
  /** The job's network (the runner's own network): every container of the job joins it, nothing else. */
  network: string;
  /** The pool's limits, applied to every container of the job (Docker's zero: not limited). */
  limits: { nanoCpus: number; memoryBytes: number; pidsLimit: number };
  /**
   * Paths of the runner container that a bind may name, and where they are on the host: the runner's
   * work directory lives in a volume of its own, so `-v /home/runner/_work:/__w` (what the stock
   * runner sends for `container:` jobs) becomes the volume's directory on the host.
   */
  workDirs: ReadonlyArray<{ runnerPath: string; hostPath: string }>;
  /** Images a job may neither pull nor build over nor delete: the runner images the pools name (a job could replace them for every later job). */
  protectedImages: readonly string[];
}

export type Rewrite<T> = { allow: true; value: T } | { allow: false; reason: string };

const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock', '/var/run/docker', '/run/docker', '/var/run', '/run'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/;
const BIND_OPTIONS = new Set(['ro', 'rw', 'nocopy']);

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Docker's zero value for a field: what the CLI sends for an option nobody gave. */
export function isZero(v: Json): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.values(v).every(isZero);
  return false;
}

/** The name the job's object really has on the host. */
export function scopedName(scope: Pick<JobScope, 'runnerName'>, name: string): string {
  return name.startsWith(`${scope.runnerName}-`) ? name : `${scope.runnerName}-${name}`;
}

/** The labels the endpoint sets on every object of the job, over whatever the job said. */
export function jobLabels(scope: Pick<JobScope, 'deploymentId' | 'runnerName'>): Record<string, string> {
  return { [JOB_LABEL.of]: scope.runnerName, [JOB_LABEL.deployment]: scope.deploymentId };
}

/** Whether an object's labels make it this job's. */
export function isJobObject(labels: Readonly<Record<string, string>> | null | undefined, scope: Pick<JobScope, 'deploymentId' | 'runnerName'>): boolean {
  return labels?.[JOB_LABEL.of] === scope.runnerName && labels[JOB_LABEL.deployment] === scope.deploymentId;
}

/** The job's labels, and the job's own, never io.runnerhub.* (they would claim a runner or another job). */
function mergeLabels(given: Json, scope: JobScope): Rewrite<Record<string, string>> {
  if (given !== undefined && given !== null && !isObject(given)) return no('Labels must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(given ?? {})) {
    if (typeof v !== 'string') return no(`label "${k.slice(0, 60)}" must be a string`);
    if (k.toLowerCase().startsWith('io.runnerhub.')) return no(`label "${k.slice(0, 60)}": io.runnerhub.* labels are RunnerHub's own; a job may not set them`);
    out[k] = v;
  }
  return { allow: true, value: { ...out, ...jobLabels(scope) } };
}

/**
 * The object without its zero-valued fields (Docker's defaults anyway). Docker's decoder lets the
 * last of two spellings of one field win (`"memory": 0` after `"Memory": N`): what the endpoint
 * forwards keeps no spelling but the ones it checked and set.
 */
function withoutZeros(object: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => !isZero(v)));
}

/** Fields that carry a value and are not in `allowed`: each could reach the host, or is one we have not reviewed. */
function nonZeroBeyond(object: JsonObject, allowed: ReadonlySet<string>): string | undefined {
  return Object.keys(object).find((k) => !allowed.has(k) && !isZero(object[k]));
}

/** Config fields a job may set freely: they shape the process inside its own container. */
const CONFIG_FREE = new Set([
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Healthcheck',
  'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell', 'HostConfig', 'NetworkingConfig', 'NetworkDisabled',
]);
/** HostConfig fields a job may set: none reaches past its own container (binds, mounts, network and limits are checked or set below). */
const HOST_FREE = new Set([
  'Binds', 'Mounts', 'NetworkMode', 'AutoRemove', 'Init', 'ReadonlyRootfs', 'Tmpfs', 'ShmSize', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'CapDrop', 'SecurityOpt',
  'ConsoleSize', 'LogConfig', 'RestartPolicy', 'IpcMode', 'CgroupnsMode', 'OomScoreAdj', 'StopTimeout', 'GroupAdd',
  // The CLI sends -1 (unset); any value only tunes the container's own cgroup.
  'MemorySwappiness',
  // Limits: taken, then capped by the pool's (a job may ask for less, never more).
  'Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'PidsLimit',
]);
const IPC_MODES = new Set(['', 'private', 'none', 'shareable']);
const NO_NEW_PRIVILEGES = /^no-new-privileges([:=]true)?$/;

export interface JobCreateQuery {
  name: string | null;
  platform?: string | null;
}

export interface JobCreateInput {
  query: JobCreateQuery;
  body: Json;
  /** The image the create runs, as the endpoint resolved it (the job's own build, when it has one of that name). */
  resolveImage?: (reference: string) => string;
  /** A volume name the job gave, as the endpoint resolved it: its scoped name when the job made it, else undefined (not the job's). */
  resolveVolume: (name: string) => string | undefined;
  /** A network the job named: the job's network, or one the job made (its scoped name), else undefined. */
  resolveNetwork: (name: string) => string | undefined;
}

/**
 * POST /containers/create from a job: refused when anything reaches past the job, otherwise the
 * body Docker is to read, with the job's labels, network and limits set, and the name to create.
 */
export function checkJobContainerCreate(input: JobCreateInput, scope: JobScope): Rewrite<{ name: string; body: JsonObject }> {
  const { query, body } = input;
  if (query.platform) return no('a job may not pick a platform (the host runs its own)');
  if (!isObject(body)) return no('the create body must be a JSON object');
  const beyond = nonZeroBeyond(body, CONFIG_FREE);
  if (beyond !== undefined) return no(`field "${beyond.slice(0, 60)}" is not one a job's container may set`);
  const image = body['Image'];
  if (typeof image !== 'string' || !image) return no('Image is required');
  const name = query.name ? checkName(query.name) : undefined;
  if (name && !name.allow) return name;

  const labels = mergeLabels(body['Labels'], scope);
  if (!labels.allow) return labels;
  const env = body['Env'] ?? [];
  if (!Array.isArray(env) || !env.every((e) => typeof e === 'string')) return no('Env must be a list of NAME=value strings');

  const hc = body['HostConfig'] ?? {};
  if (!isObject(hc)) return no('HostConfig must be an object');
  const host = checkHostConfig(hc, input, scope);
  if (!host.allow) return host;

  const network = networkOf(hc, body['NetworkingConfig'], input, scope, name?.value);
  if (!network.allow) return network;

  return {
    allow: true,
    value: {
      name: scopedName(scope, name?.value ?? randomSuffix()),
      body: { ...withoutZeros(body), Image: input.resolveImage?.(image) ?? image, Labels: labels.value, HostConfig: { ...host.value, NetworkMode: network.value.name }, NetworkingConfig: network.value.config },
    },
  };
}

function randomSuffix(): string {
  return `c${Math.random().toString(36).slice(2, 12)}`;
}

function checkName(name: string): Rewrite<string> {
  const bare = name.replace(/^\//, '');
  if (!NAME.test(bare)) return no(`"${bare.slice(0, 60)}" is not a container name`);
  return { allow: true, value: bare };
}

function checkHostConfig(hc: JsonObject, input: JobCreateInput, scope: JobScope): Rewrite<JsonObject> {
  if (hc['Privileged'] !== undefined && hc['Privileged'] !== false) return no('privileged containers are never allowed (HostConfig.Privileged)');
  for (const ns of ['PidMode', 'UTSMode', 'UsernsMode'] as const) {
    if (!isZero(hc[ns])) return no(`HostConfig.${ns} ${JSON.stringify(hc[ns])}: a job's container never joins the host's or another container's namespace`);
  }
  if (typeof hc['IpcMode'] === 'string' ? !IPC_MODES.has(hc['IpcMode']) : !isZero(hc['IpcMode'])) return no(`HostConfig.IpcMode ${JSON.stringify(hc['IpcMode'])}: only private, none or shareable (never host or another container's)`);
  if (!isZero(hc['CgroupnsMode']) && hc['CgroupnsMode'] !== 'private') return no(`HostConfig.CgroupnsMode ${JSON.stringify(hc['CgroupnsMode'])}: only private`);
  if (!isZero(hc['CapAdd'])) return no(`HostConfig.CapAdd ${JSON.stringify(hc['CapAdd'])}: a job may drop capabilities, never add them`);
  for (const device of ['Devices', 'DeviceRequests', 'DeviceCgroupRules'] as const) {
    if (!isZero(hc[device])) return no(`HostConfig.${device}: a job's container gets no host device`);
  }
  if (!isZero(hc['PortBindings']) || !isZero(hc['PublishAllPorts'])) return no("HostConfig.PortBindings: a job may not publish ports on the host (its containers reach each other on the job's network, by name)");
  const securityOpt = hc['SecurityOpt'] ?? [];
  if (!Array.isArray(securityOpt) || securityOpt.some((o) => typeof o !== 'string' || !NO_NEW_PRIVILEGES.test(o))) {
    return no(`HostConfig.SecurityOpt ${JSON.stringify(securityOpt).slice(0, 80)}: only no-new-privileges (seccomp, apparmor and labels stay Docker's defaults)`);
  }
  const restart = hc['RestartPolicy'];
  if (!isZero(restart) && !(isObject(restart) && (restart['Name'] === 'no' || restart['Name'] === '') && isZero(restart['MaximumRetryCount']))) {
    return no('HostConfig.RestartPolicy: a job\'s containers never restart on their own (they would outlive a stop)');
  }
  const log = hc['LogConfig'];
  if (!isZero(log) && !(isObject(log) && (log['Type'] === 'json-file' || log['Type'] === '') && isZero(log['Config']))) return no('HostConfig.LogConfig: a job keeps Docker\'s default log driver');
  const beyond = nonZeroBeyond(hc, HOST_FREE);
  if (beyond !== undefined) return no(`HostConfig.${beyond.slice(0, 60)} is not one a job's container may set (runtimes, cgroup parents, links, volumes-from, sysctls, ulimits and devices reach past the job)`);

  const binds = hc['Binds'] ?? [];
  if (!Array.isArray(binds)) return no('HostConfig.Binds must be a list');
  const outBinds: string[] = [];
  for (const bind of binds) {
    const b = checkBind(bind, input, scope);
    if (!b.allow) return b;
    outBinds.push(b.value);
  }
  const mounts = hc['Mounts'] ?? [];
  if (!Array.isArray(mounts)) return no('HostConfig.Mounts must be a list');
  const outMounts: JsonObject[] = [];
  for (const [i, m] of mounts.entries()) {
    const checked = checkMount(m, i, input, scope);
    if (!checked.allow) return checked;
    outMounts.push(checked.value);
  }
  return { allow: true, value: { ...withoutZeros(hc), Binds: outBinds, Mounts: outMounts, ...limitsOf(hc, scope) } };
}

/** The pool's limits, or less when the job asked for less. */
function limitsOf(hc: JsonObject, scope: JobScope): JsonObject {
  const cap = (asked: Json, limit: number): number => {
    const n = typeof asked === 'number' && Number.isSafeInteger(asked) && asked > 0 ? asked : 0;
    if (limit <= 0) return n;
    return n > 0 ? Math.min(n, limit) : limit;
  };
  const memory = cap(hc['Memory'], scope.limits.memoryBytes);
  return {
    Memory: memory,
    MemorySwap: memory > 0 ? memory : 0,
    NanoCpus: cap(hc['NanoCpus'], scope.limits.nanoCpus),
    // Shares are a weight among siblings, not a limit; NanoCpus is the limit and both cannot be set.
    CpuShares: 0,
    PidsLimit: cap(hc['PidsLimit'], scope.limits.pidsLimit),
  };
}

/** A host path a job may bind: one of the runner's work directories (and below), as it is on the host. */
export function mapWorkPath(path: string, scope: Pick<JobScope, 'workDirs'>): string | undefined {
  if (!path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '.')) return undefined;
  const clean = path.replace(/\/+$/, '') || '/';
  for (const { runnerPath, hostPath } of scope.workDirs) {
    if (clean === runnerPath) return hostPath;
    if (clean.startsWith(`${runnerPath}/`)) return `${hostPath}${clean.slice(runnerPath.length)}`;
  }
  return undefined;
}

function refuseHostPath(source: string, scope: JobScope): { allow: false; reason: string } {
  const normal = source.replace(/\/+$/, '') || '/';
  if (DOCKER_SOCKETS.some((p) => normal === p || normal.startsWith(`${p}/docker`))) return no(`binding ${source} is refused: the Docker socket is never handed to a job (use the job's own endpoint, DOCKER_HOST)`);
  if (normal === '/') return no("binding / is refused: a job's container gets no host path");
  const allowed = scope.workDirs.map((w) => w.runnerPath).join(', ') || 'none';
  return no(`binding ${source.slice(0, 120)} is refused: only the job's own work directories (${allowed}) and the job's volumes may be mounted`);
}

function checkBind(bind: Json, input: JobCreateInput, scope: JobScope): Rewrite<string> {
  if (typeof bind !== 'string') return no('each of HostConfig.Binds must be "source:target[:options]"');
  const parts = bind.split(':');
  if (parts.length < 2 || parts.length > 3) return no(`bind "${bind.slice(0, 120)}" is not source:target[:options]`);
  const [source, target, options = ''] = parts as [string, string, string?];
  if (!target.startsWith('/')) return no(`bind "${bind.slice(0, 120)}": the target must be an absolute path`);
  if (options && options.split(',').some((o) => !BIND_OPTIONS.has(o))) return no(`bind options "${options.slice(0, 60)}": only ro, rw and nocopy (propagation and relabelling reach the host)`);
  const suffix = options ? `:${options}` : '';
  if (source.startsWith('/')) {
    const mapped = mapWorkPath(source, scope);
    if (mapped === undefined) return refuseHostPath(source, scope);
    return { allow: true, value: `${mapped}:${target}${suffix}` };
  }
  const volume = input.resolveVolume(source);
  if (volume === undefined) return no(`volume "${source.slice(0, 80)}" is not one this job made (another job's volumes and the host's are never mounted)`);
  return { allow: true, value: `${volume}:${target}${suffix}` };
}

const MOUNT_FREE = new Set(['Type', 'Source', 'Target', 'ReadOnly', 'Consistency', 'TmpfsOptions', 'VolumeOptions', 'BindOptions']);

function checkMount(m: Json, i: number, input: JobCreateInput, scope: JobScope): Rewrite<JsonObject> {
  if (!isObject(m)) return no(`HostConfig.Mounts[${i}] must be an object`);
  const beyond = nonZeroBeyond(m, MOUNT_FREE);
  if (beyond !== undefined) return no(`HostConfig.Mounts[${i}].${beyond.slice(0, 60)} is not allowed`);
  const target = m['Target'];
  if (typeof target !== 'string' || !target.startsWith('/')) return no(`HostConfig.Mounts[${i}].Target must be an absolute path`);
  const source = typeof m['Source'] === 'string' ? m['Source'] : '';
  switch (m['Type']) {
    case 'tmpfs':
      if (source) return no(`HostConfig.Mounts[${i}]: a tmpfs has no source`);
      return { allow: true, value: withoutZeros(m) };
    case 'volume': {
      const options = m['VolumeOptions'];
      if (isObject(options) && (!isZero(options['DriverConfig']) || !isZero(options['Subpath']))) return no(`HostConfig.Mounts[${i}].VolumeOptions: no volume driver options (they can mount host paths)`);
      if (!source) return { allow: true, value: withoutZeros(m) }; // anonymous: removed with the container
      const volume = input.resolveVolume(source);
      if (volume === undefined) return no(`volume "${source.slice(0, 80)}" is not one this job made (another job's volumes and the host's are never mounted)`);
      return { allow: true, value: { ...withoutZeros(m), Source: volume } };
    }
    case 'bind': {
      const options = m['BindOptions'];
      if (isObject(options) && !isZero({ ...options, NonRecursive: undefined })) return no(`HostConfig.Mounts[${i}].BindOptions: no propagation or other bind options`);
      const mapped = mapWorkPath(source, scope);
      if (mapped === undefined) return refuseHostPath(source, scope);
      return { allow: true, value: { ...withoutZeros(m), Source: mapped } };
    }
    default:
      return no(`HostConfig.Mounts[${i}]: Type ${JSON.stringify(m['Type'])} is not allowed (bind of the job's work directory, volume or tmpfs)`);
  }
}

/**
 * The network the container joins: always the job's own (the runner's network), whatever network of
 * the job's it named (the stock runner makes `github_network_<id>` and puts job and service
 * containers on it): on the runner's network the runner itself reaches the services by name, as it
 * does on a hosted runner. The aliases the job gave, and the name it gave, are the DNS names.
 */
function networkOf(hc: JsonObject, networking: Json, input: JobCreateInput, scope: JobScope, givenName: string | undefined): Rewrite<{ name: string; config: JsonObject }> {
  const mode = typeof hc['NetworkMode'] === 'string' ? hc['NetworkMode'] : '';
  if (mode && mode !== 'default' && mode !== 'bridge') {
    if (mode === 'host' || mode.includes(':')) return no(`HostConfig.NetworkMode ${JSON.stringify(mode)}: a job's container never uses the host's network or another container's`);
    if (mode === 'none') return { allow: true, value: { name: 'none', config: {} } };
    if (input.resolveNetwork(mode) === undefined) return no(`network "${mode.slice(0, 80)}" is not the job's (a job's containers join its own network or one it made)`);
  }
  if (networking !== undefined && networking !== null && !isObject(networking)) return no('NetworkingConfig must be an object');
  const endpoints = isObject(networking) ? networking['EndpointsConfig'] : undefined;
  if (isObject(networking) && nonZeroBeyond(networking, new Set(['EndpointsConfig'])) !== undefined) return no('NetworkingConfig: only EndpointsConfig');
  const aliases: string[] = givenName ? [givenName] : [];
  if (endpoints !== undefined && endpoints !== null) {
    if (!isObject(endpoints)) return no('NetworkingConfig.EndpointsConfig must be an object');
    const entries = Object.entries(endpoints);
    if (entries.length > 1) return no("a job's container joins one network");
    for (const [net, endpoint] of entries) {
      if (net !== mode && net !== 'default' && net !== 'bridge' && input.resolveNetwork(net) === undefined) return no(`network "${net.slice(0, 80)}" is not the job's`);
      if (!isObject(endpoint)) return no(`EndpointsConfig.${net.slice(0, 60)} must be an object`);
      const extra = nonZeroBeyond(endpoint, new Set(['Aliases']));
      if (extra !== undefined) return no(`EndpointsConfig.${net.slice(0, 60)}.${extra.slice(0, 40)}: a job may give aliases, not addresses, links or driver options`);
      const a = endpoint['Aliases'] ?? [];
      if (!Array.isArray(a) || a.some((x) => typeof x !== 'string' || !NAME.test(x))) return no('Aliases must be a list of names');
      for (const alias of a as string[]) if (!aliases.includes(alias)) aliases.push(alias);
    }
  }
  return { allow: true, value: { name: scope.network, config: { EndpointsConfig: { [scope.network]: aliases.length > 0 ? { Aliases: aliases } : {} } } } };
}

/** POST /containers/{id}/exec from a job: a process in the job's own container, never privileged. */
export function checkJobExec(body: Json): Decision {
  if (!isObject(body)) return no('the exec body must be a JSON object');
  if (body['Privileged'] !== undefined && body['Privileged'] !== false) return no('privileged exec is never allowed');
  const beyond = nonZeroBeyond(body, new Set(['AttachStdin', 'AttachStdout', 'AttachStderr', 'DetachKeys', 'Tty', 'Env', 'Cmd', 'User', 'WorkingDir', 'ConsoleSize']));
  if (beyond !== undefined) return no(`exec field "${beyond.slice(0, 60)}" is not allowed`);
  return { allow: true };
}

/**
 * POST /build from a job (the classic builder; BuildKit's session is a connection upgrade the
 * endpoint refuses): no host network, no extra hosts' privileges, no entitlements, no host-side
 * cache or output; tags scoped to the job, labelled with it, limited like its containers.
 */
export function checkJobBuild(query: URLSearchParams, scope: JobScope): Rewrite<URLSearchParams> {
  const FREE = new Set(['dockerfile', 't', 'q', 'nocache', 'rm', 'forcerm', 'pull', 'buildargs', 'labels', 'target', 'networkmode', 'memory', 'memswap', 'cpushares', 'cpuquota', 'cpuperiod', 'shmsize', 'version', 'cachefrom', 'platform', 'extrahosts']);
  for (const key of query.keys()) {
    if (key === 'remote') return no('build from a remote context (remote=) is not allowed: send the context');
    if (!FREE.has(key) && !isZero(query.get(key))) return no(`build parameter "${key.slice(0, 40)}" is not allowed (insecure entitlements, security options, isolation, squash, outputs and the like reach past the job)`);
  }
  const network = query.get('networkmode') ?? '';
  if (network === 'host' || network.includes(':')) return no(`build with --network ${network.slice(0, 60)} is refused: a build never uses the host's network or another container's`);
  if (network && network !== 'default' && network !== 'bridge' && network !== 'none') return no(`build network "${network.slice(0, 60)}": only default or none`);
  if (query.get('version') === '2') return no('BuildKit builds need a session the endpoint does not serve; set DOCKER_BUILDKIT=0 (the classic builder is what the scoped endpoint supports)');
  let labels: Record<string, string> = {};
  try {
    labels = query.has('labels') ? (JSON.parse(query.get('labels')!) as Record<string, string>) : {};
  } catch {
    return no('build labels must be a JSON object');
  }
  const merged = mergeLabels(labels, scope);
  if (!merged.allow) return merged;
  const out = new URLSearchParams();
  for (const [k, v] of query) if (k !== 't' && k !== 'labels' && k !== 'memory' && k !== 'memswap' && k !== 'networkmode') out.append(k, v);
  for (const tag of query.getAll('t')) {
    const t = jobImageTag(tag, scope);
    if (!t.allow) return t;
    out.append('t', t.value);
  }
  out.set('labels', JSON.stringify(merged.value));
  out.set('networkmode', network === 'none' ? 'none' : scope.network);
  if (scope.limits.memoryBytes > 0) {
    out.set('memory', String(scope.limits.memoryBytes));
    out.set('memswap', String(scope.limits.memoryBytes));
  }
  return { allow: true, value: out };
}

/** The host-side reference of an image the job tags: under the runner's name, so it never replaces anyone else's. */
export function jobImageTag(reference: string, scope: Pick<JobScope, 'runnerName' | 'protectedImages'>): Rewrite<string> {
  if (!/^[a-z0-9][a-z0-9._\-/]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/.test(reference)) return no(`"${reference.slice(0, 80)}" is not an image tag`);
  const scoped = reference.startsWith(`${scope.runnerName}/`) ? reference : `${scope.runnerName}/${reference}`;
  if (matchesAny(normaliseImage(scoped), scope.protectedImages)) return no(`image "${reference}" is one the pools run; a job may not replace it`);
  return { allow: true, value: normaliseImage(scoped) };
}

/** POST /images/create from a job: a registry pull, never an import, never over a runner image. */
export function checkJobPull(query: URLSearchParams, scope: Pick<JobScope, 'protectedImages'>): Decision {
  if (query.has('fromSrc')) return no('importing an image (fromSrc) is not allowed');
  const from = query.get('fromImage');
  if (!from) return no('fromImage is required');
  const tag = query.get('tag');
  const reference = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
  if (matchesAny(normaliseImage(reference), scope.protectedImages)) return no(`image "${reference}" is one the pools run; a job may not pull over it`);
  return { allow: true };
}

/** POST /volumes/create and POST /networks/create from a job: named under the runner, labelled, no driver options. */
export function checkJobVolumeCreate(body: Json, scope: JobScope): Rewrite<JsonObject> {
  if (!isObject(body)) return no('the volume create body must be a JSON object');
  const beyond = nonZeroBeyond(body, new Set(['Name', 'Labels', 'Driver']));
  if (beyond !== undefined) return no(`volume field "${beyond.slice(0, 40)}" is not allowed (drivers and driver options can mount host paths)`);
  if (body['Driver'] !== undefined && body['Driver'] !== '' && body['Driver'] !== 'local') return no('only local volumes');
  const name = typeof body['Name'] === 'string' && body['Name'] ? body['Name'] : randomSuffix();
  if (!NAME.test(name)) return no(`"${name.slice(0, 60)}" is not a volume name`);
  const labels = mergeLabels(body['Labels'], scope);
  if (!labels.allow) return labels;
  return { allow: true, value: { Name: scopedName(scope, name), Labels: labels.value } };
}

export function checkJobNetworkCreate(body: Json, scope: JobScope): Rewrite<JsonObject> {
  if (!isObject(body)) return no('the network create body must be a JSON object');
  // The CLI sends IPAM {Driver: "default"} unasked; addresses (Config) and options are what could take the LAN's.
  const ipam = body['IPAM'];
  if (!isZero(ipam) && !(isObject(ipam) && (ipam['Driver'] === 'default' || ipam['Driver'] === '') && isZero(ipam['Config']) && isZero(ipam['Options']) && nonZeroBeyond(ipam, new Set(['Driver'])) === undefined)) {
    return no('network IPAM is not allowed (a job may not pick subnets or addresses: they could be the LAN\'s)');
  }
  const beyond = nonZeroBeyond(body, new Set(['Name', 'Labels', 'CheckDuplicate', 'Driver', 'Attachable', 'EnableIPv6', 'IPAM']));
  if (beyond !== undefined) return no(`network field "${beyond.slice(0, 40)}" is not allowed (IPAM, options and ingress could take addresses or bridges of the host)`);
  if (body['Driver'] !== undefined && body['Driver'] !== '' && body['Driver'] !== 'bridge') return no('only bridge networks');
  const name = body['Name'];
  if (typeof name !== 'string' || !NAME.test(name)) return no('a network needs a Name');
  const labels = mergeLabels(body['Labels'], scope);
  if (!labels.allow) return labels;
  return { allow: true, value: { Name: scopedName(scope, name), Driver: 'bridge', CheckDuplicate: true, Labels: labels.value } };
}

/** `filters` of a list or event call, narrowed to the job's objects whatever the job asked. */
export function scopeFilters(raw: string | null, scope: Pick<JobScope, 'deploymentId' | 'runnerName'>): Rewrite<string> {
  let filters: Record<string, unknown> = {};
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (!isObject(parsed)) return no('filters must be a JSON object');
      filters = parsed;
    } catch {
      return no('filters must be JSON');
    }
  }
  // Both forms Docker reads: {"label": ["a=b"]} and {"label": {"a=b": true}}.
  const given = filters['label'];
  const labels = Array.isArray(given) ? given.filter((x): x is string => typeof x === 'string') : isObject(given) ? Object.keys(given) : [];
  const own = Object.entries(jobLabels(scope)).map(([k, v]) => `${k}=${v}`);
  return { allow: true, value: JSON.stringify({ ...filters, label: [...labels.filter((l) => !own.includes(l)), ...own] }) };
}
