import { JIT_DIR, LABEL, SUDO_CAPABILITIES, wrapCommand } from '@runnerhub/docker';
import { ALLOW, deny, foreignReason, matchesAny, normaliseImage, type Decision, type GuardPolicy } from './policy.js';

/**
 * The body check of POST /containers/create: a create passes only when it is something
 * planRunnerContainer (libs/docker/src/container-spec.ts) can produce. Every key is checked against
 * an allowlist spelled exactly as the template spells it: Docker's JSON decoder matches field names
 * without regard to case, so `privileged` would be Privileged to Docker; here it is an unknown key and
 * refused. Values are checked one by one; the guard forwards the body it parsed, re-serialised, so
 * Docker reads exactly what was checked.
 */

const TOP_LEVEL = new Set(['name', 'Image', 'Cmd', 'Env', 'Labels', 'Volumes', 'HostConfig']);
const HOST_CONFIG = new Set([
  'Privileged',
  'CapDrop',
  'CapAdd',
  'SecurityOpt',
  'ReadonlyRootfs',
  'Tmpfs',
  'NanoCpus',
  'CpuShares',
  'Memory',
  'MemorySwap',
  'PidsLimit',
  'Init',
  'NetworkMode',
  'RestartPolicy',
  'AutoRemove',
  'LogConfig',
  'Binds',
  'Mounts',
  'Runtime',
]);
const MOUNT_KEYS = new Set(['Type', 'Source', 'Target', 'ReadOnly']);
const OWN_LABELS = new Set<string>(Object.values(LABEL));
const SUDO_SET = new Set<string>(SUDO_CAPABILITIES);
const NO_NEW_PRIVILEGES = new Set(['no-new-privileges:true', 'no-new-privileges=true', 'no-new-privileges']);
/** How a sudo spec says it (planRunnerContainer): explicitly, so a daemon's --no-new-privileges cannot set it. */
const NEW_PRIVILEGES_ALLOWED = new Set(['no-new-privileges:false', 'no-new-privileges=false']);
/** The one tmpfs a read-only root gets (container-spec.ts READ_ONLY_TMPFS). */
const READ_ONLY_TMPFS: Readonly<Record<string, string>> = { '/tmp': 'rw,nosuid,nodev,size=1g' };
const LOG_OPTIONS: Readonly<Record<string, string>> = { 'max-size': '10m', 'max-file': '3' };
const WRAPPER_PREFIX = wrapCommand([]);
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Docker network names; `host`, `container:<id>` and `ns:<path>` (namespace joins) never match. */
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Paths a cache volume may not cover (container-spec.ts FORBIDDEN_MOUNTS). */
const FORBIDDEN_MOUNTS = ['/', '/proc', '/sys', '/dev', '/etc', '/run', '/var/run', JIT_DIR];
const MIN_MEMORY = 64 * 1024 * 1024;

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: Json): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function isPositiveInteger(v: Json): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function sameRecord(v: Json, expected: Readonly<Record<string, string>>): boolean {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === Object.keys(expected).length && keys.every((k) => v[k] === expected[k]);
}

function unknownKey(object: Record<string, Json>, allowed: ReadonlySet<string>): string | undefined {
  return Object.keys(object).find((k) => !allowed.has(k));
}

/** The create's query string: Docker reads `name` (and `platform`) there. */
export interface CreateQuery {
  name: string | null;
  platform?: string | null;
}

export function checkContainerCreate(query: CreateQuery, body: Json, policy: GuardPolicy): Decision {
  const name = query.name;
  if (query.platform) return deny('a create may not pick a platform (the image of the pool is run as the host runs it)');
  if (!name) return deny('a container must be created with a name (?name=), and that name must start with ' + JSON.stringify(policy.namePrefix));
  if (!name.startsWith(policy.namePrefix) || !NETWORK_NAME.test(name)) return deny(`container name "${name}" does not start with the runner prefix "${policy.namePrefix}"`);
  if (!isObject(body)) return deny('the create body must be a JSON object');
  const extra = unknownKey(body, TOP_LEVEL);
  if (extra !== undefined) return deny(`field "${extra}" is not part of a runner container (only ${[...TOP_LEVEL].join(', ')})`);
  if (body['name'] !== undefined && body['name'] !== name) return deny('the body names a different container than ?name=');

  const image = body['Image'];
  if (typeof image !== 'string' || !image) return deny('Image is required');
  if (!matchesAny(normaliseImage(image), policy.images)) return deny(`image "${image}" is not one the pools name (allowed: ${policy.images.join(', ')})`);

  const cmd = body['Cmd'];
  if (!isStringArray(cmd) || cmd.length <= WRAPPER_PREFIX.length || WRAPPER_PREFIX.some((part, i) => cmd[i] !== part)) {
    return deny('Cmd must be the runner wrapper (libs/docker jit-delivery) followed by the runner command');
  }

  const env = body['Env'] ?? [];
  if (!isStringArray(env)) return deny('Env must be a list of NAME=value strings');
  for (const entry of env) {
    const variable = entry.split('=', 1)[0] ?? '';
    if (!entry.includes('=') || !ENV_NAME.test(variable)) return deny(`Env entry "${entry.slice(0, 40)}" is not NAME=value`);
    if (variable.toUpperCase().startsWith('ACTIONS_RUNNER_INPUT_')) return deny(`Env ${variable}: runner inputs travel as a file, never in the environment`);
  }

  const labels = body['Labels'];
  if (!isObject(labels)) return deny(`Labels are required: ${LABEL.managed}=true and this deployment's ${LABEL.deployment}`);
  const foreignLabel = Object.keys(labels).find((k) => !OWN_LABELS.has(k) || typeof labels[k] !== 'string');
  if (foreignLabel !== undefined) return deny(`label "${foreignLabel}" is not one RunnerHub sets (io.runnerhub.*, string values)`);
  const notOurs = foreignReason(labels as Record<string, string>, policy);
  if (notOurs) return deny(`the new container's labels are not this deployment's: ${notOurs}`);
  if (labels[LABEL.runnerName] !== name) return deny(`label ${LABEL.runnerName} must equal the container name "${name}"`);

  const volumes = body['Volumes'] ?? {};
  if (!isObject(volumes) || Object.entries(volumes).some(([path, v]) => path !== JIT_DIR || !isObject(v) || Object.keys(v).length > 0)) {
    return deny(`Volumes may only hold the anonymous JIT volume at ${JIT_DIR}`);
  }

  const hostConfig = body['HostConfig'];
  if (!isObject(hostConfig)) return deny('HostConfig is required (CapDrop ALL, limits, no-new-privileges)');
  return checkHostConfig(hostConfig, labels[LABEL.pool] as string | undefined, policy);
}

function checkHostConfig(hc: Record<string, Json>, pool: string | undefined, policy: GuardPolicy): Decision {
  const extra = unknownKey(hc, HOST_CONFIG);
  if (extra !== undefined) return deny(`HostConfig.${extra} is not part of a runner container (host namespaces, devices, binds, extra privileges and the like are never allowed)`);
  if (hc['Privileged'] !== undefined && hc['Privileged'] !== false) return deny('HostConfig.Privileged: a runner is never privileged');

  const capDrop = hc['CapDrop'];
  if (!isStringArray(capDrop) || !capDrop.some((c) => c.toUpperCase() === 'ALL')) return deny('HostConfig.CapDrop must drop ALL capabilities');
  const capAdd = hc['CapAdd'] ?? [];
  if (!isStringArray(capAdd)) return deny('HostConfig.CapAdd must be a list');
  const beyond = capAdd.find((c) => !SUDO_SET.has(c.toUpperCase().replace(/^CAP_/, '')));
  if (beyond !== undefined) return deny(`HostConfig.CapAdd ${beyond}: only the sudo set (${SUDO_CAPABILITIES.join(', ')}) may be kept, and only by a sudo pool`);
  const securityOpt = hc['SecurityOpt'] ?? [];
  if (!isStringArray(securityOpt)) return deny('HostConfig.SecurityOpt must be a list');
  const otherOpt = securityOpt.find((o) => !NO_NEW_PRIVILEGES.has(o) && !NEW_PRIVILEGES_ALLOWED.has(o));
  if (otherOpt !== undefined) return deny(`HostConfig.SecurityOpt "${otherOpt}": only no-new-privileges may be set (seccomp, apparmor, label and the rest stay Docker's defaults)`);
  const noNewPrivileges = securityOpt.some((o) => NO_NEW_PRIVILEGES.has(o));
  if (noNewPrivileges && securityOpt.some((o) => NEW_PRIVILEGES_ALLOWED.has(o))) return deny('HostConfig.SecurityOpt sets no-new-privileges both true and false');
  // Without no-new-privileges (left out, or said false) the spec is a sudo spec, whatever CapAdd says.
  const sudo = capAdd.length > 0 || !noNewPrivileges;
  if (sudo && !(pool !== undefined && (policy.sudoPools.includes('*') || policy.sudoPools.includes(pool)))) {
    return deny(`pool "${pool ?? ''}" may not run a sudo spec (added capabilities or no no-new-privileges); allowed sudo pools: ${policy.sudoPools.join(', ') || 'none'}`);
  }

  if (hc['ReadonlyRootfs'] !== undefined && typeof hc['ReadonlyRootfs'] !== 'boolean') return deny('HostConfig.ReadonlyRootfs must be true or false');
  const tmpfs = hc['Tmpfs'] ?? {};
  if (!(isObject(tmpfs) && Object.keys(tmpfs).length === 0) && !sameRecord(tmpfs, READ_ONLY_TMPFS)) return deny("HostConfig.Tmpfs may only be the read-only root's /tmp");

  const nano = hc['NanoCpus'];
  const shares = hc['CpuShares'];
  if (nano !== undefined && shares !== undefined) return deny('HostConfig sets both NanoCpus and CpuShares');
  if (nano !== undefined && !isPositiveInteger(nano)) return deny('HostConfig.NanoCpus must be a positive whole number');
  if (shares !== undefined && !(isPositiveInteger(shares) && shares >= 2 && shares <= 262_144)) return deny('HostConfig.CpuShares must be between 2 and 262144');
  const memory = hc['Memory'];
  if (memory !== undefined && !(isPositiveInteger(memory) && memory >= MIN_MEMORY)) return deny('HostConfig.Memory must be at least 64 MiB');
  const swap = hc['MemorySwap'];
  if (swap !== undefined && swap !== memory) return deny('HostConfig.MemorySwap must equal Memory (no swap)');
  const pids = hc['PidsLimit'];
  if (pids !== undefined && !(isPositiveInteger(pids) && pids >= 16)) return deny('HostConfig.PidsLimit must be at least 16');

  if (hc['Init'] !== undefined && hc['Init'] !== true) return deny('HostConfig.Init must be true');
  const network = hc['NetworkMode'];
  if (typeof network !== 'string' || !NETWORK_NAME.test(network) || network === 'host' || network === 'default') {
    return deny(`HostConfig.NetworkMode "${String(network)}": a runner joins a named network of its own, never the host's or another container's`);
  }
  const restart = hc['RestartPolicy'];
  if (restart !== undefined && !(isObject(restart) && restart['Name'] === 'no' && Object.keys(restart).every((k) => k === 'Name' || (k === 'MaximumRetryCount' && restart[k] === 0)))) {
    return deny('HostConfig.RestartPolicy must be "no"');
  }
  if (hc['AutoRemove'] !== undefined && hc['AutoRemove'] !== false) return deny('HostConfig.AutoRemove must be false (the executor removes runners)');
  const log = hc['LogConfig'];
  if (log !== undefined && !(isObject(log) && log['Type'] === 'json-file' && sameRecord(log['Config'], LOG_OPTIONS) && Object.keys(log).length === 2)) {
    return deny('HostConfig.LogConfig must be json-file with max-size 10m, max-file 3');
  }
  const binds = hc['Binds'] ?? [];
  if (!Array.isArray(binds) || binds.length > 0) return deny('HostConfig.Binds: no host path is ever bound into a runner');
  const runtime = hc['Runtime'];
  if (runtime !== undefined && runtime !== 'sysbox-runc') return deny(`HostConfig.Runtime ${JSON.stringify(runtime)}: only sysbox-runc (docker: sysbox pools) may be chosen`);

  const mounts = hc['Mounts'] ?? [];
  if (!Array.isArray(mounts)) return deny('HostConfig.Mounts must be a list');
  for (const [i, m] of mounts.entries()) {
    if (!isObject(m)) return deny(`HostConfig.Mounts[${i}] must be an object`);
    const key = unknownKey(m, MOUNT_KEYS);
    if (key !== undefined) return deny(`HostConfig.Mounts[${i}].${key} is not allowed (volume driver options could mount host paths)`);
    if (m['Type'] !== 'volume') return deny(`HostConfig.Mounts[${i}]: only named volumes, never Type ${JSON.stringify(m['Type'])}`);
    const source = m['Source'];
    if (typeof source !== 'string' || !VOLUME_NAME.test(source)) return deny(`HostConfig.Mounts[${i}].Source must be a volume name, never a path`);
    if (!matchesAny(source, policy.volumes)) return deny(`volume "${source}" is not a cache volume of ours (allowed: ${policy.volumes.join(', ')})`);
    const target = typeof m['Target'] === 'string' ? m['Target'].replace(/\/+$/, '') || '/' : '';
    if (!target.startsWith('/') || target.includes('..')) return deny(`HostConfig.Mounts[${i}].Target must be an absolute path`);
    if (FORBIDDEN_MOUNTS.some((p) => target === p || (p !== '/' && target.startsWith(`${p}/`)))) return deny(`HostConfig.Mounts[${i}] may not cover ${target}`);
    if (m['ReadOnly'] !== undefined && typeof m['ReadOnly'] !== 'boolean') return deny(`HostConfig.Mounts[${i}].ReadOnly must be true or false`);
  }
  return ALLOW;
}
