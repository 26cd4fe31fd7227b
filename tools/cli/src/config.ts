import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError, EXIT } from './errors.js';

/**
 * Where the services are and which token to send. Each setting comes from the first of: a flag,
 * the environment, a profile file (mode 0600, KEY=VALUE lines as in a .env file), a default.
 *
 *   RUNNERHUB_URL                 every service on its usual port of that host (http://nas.local)
 *   RUNNERHUB_<SERVICE>_URL       one service: RUNNERHUB_WEBHOOK_GATEWAY_URL, RUNNERHUB_SCHEDULER_URL,
 *                                 RUNNERHUB_POOL_MANAGER_URL, RUNNERHUB_CONTAINER_EXECUTOR_URL,
 *                                 RUNNERHUB_STATUS_REPORTER_URL, RUNNERHUB_METRICS_URL (http://nas.local:8082)
 *   RUNNERHUB_TOKEN               a bearer token from ADMIN_TOKENS (read scope for looking, write to change)
 *   RUNNERHUB_ALERTMANAGER_URL    where `status` asks for firing alerts (optional)
 *   RUNNERHUB_PROFILE             the profile file; else .run/runnerhub.env of this directory or one
 *                                 above it (what `make run` writes), else ~/.config/runnerhub/profile.env
 *
 * Inside a service's container with no token set, the first write token of the container's own
 * ADMIN_TOKENS (or of the file ADMIN_TOKENS_FILE names) is used.
 */

export const SERVICE_PORTS = {
  'webhook-gateway': 8080,
  scheduler: 8081,
  'pool-manager': 8082,
  'container-executor': 8083,
  'status-reporter': 8084,
  metrics: 8085,
} as const;
export type Service = keyof typeof SERVICE_PORTS;
export const SERVICE_NAMES = Object.keys(SERVICE_PORTS) as Service[];

export interface Settings {
  urls: Record<Service, string>;
  token: string | undefined;
  /** Where the token came from, for error messages. */
  tokenSource: string;
  alertmanagerUrl: string | undefined;
  /** The profile file read, if any. */
  profile: string | undefined;
}

export interface SettingFlags {
  url?: string | undefined;
  token?: string | undefined;
  profile?: string | undefined;
}

export const serviceVariable = (service: Service): string => `RUNNERHUB_${service.toUpperCase().replaceAll('-', '_')}_URL`;

/** KEY=VALUE lines; # comments and blank lines skipped; optional quotes around a value. */
export function parseProfile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    out[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

function findProfile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string, home: string): { path: string; explicit: boolean } | undefined {
  if (flag) return { path: resolve(cwd, flag), explicit: true };
  if (env['RUNNERHUB_PROFILE']) return { path: resolve(cwd, env['RUNNERHUB_PROFILE']), explicit: true };
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, '.run', 'runnerhub.env');
    if (exists(candidate)) return { path: candidate, explicit: false };
    if (dirname(dir) === dir) break;
  }
  const user = join(home, '.config', 'runnerhub', 'profile.env');
  return exists(user) ? { path: user, explicit: false } : undefined;
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The profile's settings; a profile others can read is refused (it holds a token), as ssh refuses a key. */
export function readProfile(path: string): Record<string, string> {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new CliError(EXIT.usage, `profile ${path} does not exist: write RUNNERHUB_URL and RUNNERHUB_TOKEN lines into it (docs/cli.md), or unset RUNNERHUB_PROFILE`);
  }
  if ((mode & 0o077) !== 0) {
    throw new CliError(EXIT.usage, `profile ${path} is readable by others (mode ${(mode & 0o777).toString(8)}) and holds a token: chmod 600 ${path}`);
  }
  return parseProfile(readFileSync(path, 'utf8'));
}

export function resolveSettings(flags: SettingFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), home = homedir()): Settings {
  const found = findProfile(flags.profile, env, cwd, home);
  const profile = found ? readProfile(found.path) : {};
  const pick = (name: string): { value: string; from: string } | undefined => {
    if (env[name]) return { value: env[name], from: `$${name}` };
    if (profile[name]) return { value: profile[name], from: `${name} in ${found!.path}` };
    return undefined;
  };
  const base = flags.url ?? pick('RUNNERHUB_URL')?.value ?? 'http://127.0.0.1';
  const baseUrl = new URL(base.includes('://') ? base : `http://${base}`);
  const urls = {} as Record<Service, string>;
  for (const service of SERVICE_NAMES) {
    const own = flags.url ? undefined : pick(serviceVariable(service))?.value;
    if (own) urls[service] = own.replace(/\/+$/, '');
    else {
      const u = new URL(baseUrl.href);
      u.port = String(SERVICE_PORTS[service]);
      urls[service] = u.origin;
    }
  }
  let token: string | undefined;
  let tokenSource = 'none';
  if (flags.token) [token, tokenSource] = [flags.token, '--token'];
  else {
    const t = pick('RUNNERHUB_TOKEN');
    if (t) [token, tokenSource] = [t.value, t.from];
    else {
      // In a service's container: its own ADMIN_TOKENS (name:scope:token, comma-separated).
      const entries = (env['ADMIN_TOKENS'] ?? readIfAny(env['ADMIN_TOKENS_FILE'])).split(',').map((e) => e.trim().split(':')).filter((p) => p.length >= 3);
      const own = entries.find((p) => p[1] === 'write') ?? entries[0];
      if (own) [token, tokenSource] = [own.slice(2).join(':'), `token "${own[0]}" of this container's ADMIN_TOKENS`];
    }
  }
  return { urls, token, tokenSource, alertmanagerUrl: pick('RUNNERHUB_ALERTMANAGER_URL')?.value, profile: found?.path };
}

function readIfAny(path: string | undefined): string {
  if (!path) return '';
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}
