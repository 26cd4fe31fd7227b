import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@runnerhub/platform';
import { loadSecrets, type SecretSpec } from '@runnerhub/secrets';
import { repoRoot } from '@runnerhub/testing';
import type { TObject } from '@sinclair/typebox';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml is how a NAS runs RunnerHub, and no engine here can pull its infrastructure
// images. What can be checked without them is what broke before: that each service, started the way
// the file starts it, gets every variable and secret its own config asks for. Each service's real
// config schema and the real secrets loader read exactly what compose would hand the container (its
// environment after ${...} interpolation from .env, its granted secrets under /run/secrets).

const SERVICES = ['webhook-gateway', 'scheduler', 'pool-manager', 'container-executor', 'status-reporter', 'metrics'] as const;

interface ComposeService {
  image?: string;
  build?: unknown;
  user?: string;
  env_file?: string[];
  environment?: Record<string, string | number>;
  secrets?: Array<string | { source: string; target?: string }>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  logging?: { driver: string; options?: Record<string, string> };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
}

/** Compose's interpolation of the forms the file uses: ${VAR}, ${VAR:-default}, ${VAR:?message}. */
function interpolate(value: string, dotEnv: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}/g, (_all, name: string, op: string | undefined, arg: string | undefined) => {
    const set = dotEnv[name];
    if (set !== undefined && set !== '') return set;
    if (op === ':?') throw new Error(`${name}: ${arg}`);
    return op === ':-' ? (arg ?? '') : '';
  });
}

function readCompose(): ComposeFile {
  return parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
}

/** A container's environment: the env_file (.env, whole), then `environment` over it. */
function containerEnv(service: ComposeService, dotEnv: Record<string, string>): Record<string, string> {
  const fromFile = service.env_file?.length ? dotEnv : {};
  return { ...fromFile, ...Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), dotEnv)])) };
}

/** NAME=value lines of an env file; with `commented`, `# NAME=value` lines too (settings shown but off). */
function parseEnvFile(text: string, commented = false): Record<string, string> {
  const line = commented ? /^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/ : /^([A-Z][A-Z0-9_]*)=(.*)$/;
  return Object.fromEntries(text.split('\n').flatMap((l) => {
    const m = line.exec(l.trim());
    return m ? [[m[1]!, m[2]!]] : [];
  }));
}

const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
const exampleEnvText = readFileSync(join(repoRoot, 'example.env'), 'utf8');
const rootVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

interface ServiceConfigModule {
  configSchema: TObject;
  secretSpecs: SecretSpec[];
}

/** A module of a service's own sources (the e2e package does not depend on the services). */
async function serviceModule<T>(service: string, file: string): Promise<T> {
  return (await import(`../../services/${service}/src/${file}.ts`)) as T;
}

// example.env as a person fills it in: the two required settings, everything else as shipped.
const dotEnv: Record<string, string> = { ...parseEnvFile(exampleEnvText), GITHUB_APP_ID: '123456', POSTGRES_PASSWORD: 'abc123' };
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const secretContents: Record<string, string> = {
  admin_tokens: 'admin:write:0123456789abcdef0123456789abcdef',
  github_webhook_secret: 'a-webhook-secret',
  github_app_private_key: privateKey,
};
const scratch = mkdtempSync(join(tmpdir(), 'compose-secrets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('docker-compose.yml', () => {
  const compose = readCompose();

  it.each(SERVICES)('starts %s with every variable and secret it needs, against a GitHub App', async (name) => {
    const service = compose.services[name];
    expect(service, `service ${name} in docker-compose.yml`).toBeDefined();
    const env = containerEnv(service!, dotEnv);
    // /run/secrets of this container: exactly the secrets the file grants it.
    const secretsDir = mkdtempSync(join(scratch, `${name}-`));
    for (const grant of service!.secrets ?? []) {
      const source = typeof grant === 'string' ? grant : grant.source;
      const target = typeof grant === 'string' ? grant : (grant.target ?? grant.source);
      expect(compose.secrets[source], `secret ${source} is declared at the top level`).toBeDefined();
      expect(secretContents[source], `a test value for secret ${source}`).toBeDefined();
      writeFileSync(join(secretsDir, target), `${secretContents[source]}\n`);
    }
    // A *_FILE variable pointing into /run/secrets reads the same directory.
    const fileEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k.endsWith('_FILE') && v.startsWith('/run/secrets/') ? join(secretsDir, v.slice('/run/secrets/'.length)) : v]));

    const mod = await serviceModule<ServiceConfigModule>(name, 'config');
    const config = loadConfig(mod.configSchema, fileEnv) as { github?: { appId: number } };
    const secrets = await loadSecrets(mod.secretSpecs, { env: fileEnv, secretsDir });

    expect(secrets.find('ADMIN_TOKENS'), 'admin API tokens').toBeDefined();
    if (mod.secretSpecs.some((s) => s.name === 'GITHUB_APP_PRIVATE_KEY')) {
      // A service that talks to GitHub must run in App mode: with app id 0 or no key it would fall
      // back to demo behaviour (or refuse its pools) on a NAS that has no simulator.
      expect(config.github?.appId).toBe(123456);
      expect(secrets.find('GITHUB_APP_PRIVATE_KEY')).toContain('BEGIN PRIVATE KEY');
    }
  });

  it('hands the gateway the webhook secret, and only the gateway', () => {
    const holders = SERVICES.filter((name) => (compose.services[name]!.secrets ?? []).some((g) => (typeof g === 'string' ? g : g.source) === 'github_webhook_secret'));
    expect(holders).toEqual(['webhook-gateway']);
  });

  it('gives the pool-manager its pools file through a mounted folder, and the example parses as a pools file', async () => {
    const pm = compose.services['pool-manager']!;
    const poolsFile = containerEnv(pm, dotEnv)['POOLS_FILE'];
    expect(poolsFile).toBeDefined();
    // The folder, never the file itself: Docker makes a directory where a file to mount is missing.
    const mount = (pm.volumes ?? []).map((v) => interpolate(v, dotEnv).split(':')).find(([, target]) => poolsFile!.startsWith(`${target}/`));
    expect(mount, `a folder mounted above ${poolsFile}`).toBeDefined();
    expect(mount![0]).toBe(dotEnv['RUNNERHUB_CONFIG']);
    expect((pm.volumes ?? []).map((v) => interpolate(v, dotEnv).split(':')[1])).not.toContain(poolsFile);
    const { parsePoolFile } = await serviceModule<{ parsePoolFile: (text: string) => Array<{ name: string }> }>('pool-manager', 'pool-file');
    const pools = parsePoolFile(readFileSync(join(repoRoot, 'deploy/pools.example.yaml'), 'utf8'));
    expect(pools.map((p) => p.name)).toEqual(['nas']);
  });

  it('gives Grafana its admin password from a secret, not a default or a value in the file', () => {
    const grafana = compose.services['grafana']!;
    const env = containerEnv(grafana, dotEnv);
    expect(env['GF_SECURITY_ADMIN_PASSWORD'], 'a password written into the compose file').toBeUndefined();
    const path = env['GF_SECURITY_ADMIN_PASSWORD__FILE'];
    expect(path, 'GF_SECURITY_ADMIN_PASSWORD__FILE').toMatch(/^\/run\/secrets\//);
    const granted = (grafana.secrets ?? []).map((g) => (typeof g === 'string' ? { source: g, target: g } : { source: g.source, target: g.target ?? g.source }));
    const secret = granted.find((g) => `/run/secrets/${g.target}` === path);
    expect(secret, `a secret granted to grafana at ${path}`).toBeDefined();
    expect(interpolate(compose.secrets[secret!.source]!.file, {})).toMatch(/^\.\/secrets\//);
  });

  it('refuses to start without GITHUB_APP_ID or POSTGRES_PASSWORD, naming it', () => {
    const gateway = compose.services['webhook-gateway']!;
    expect(() => containerEnv(gateway, { ...dotEnv, GITHUB_APP_ID: '' })).toThrow(/GITHUB_APP_ID/);
    expect(() => containerEnv(gateway, { ...dotEnv, POSTGRES_PASSWORD: '' })).toThrow(/POSTGRES_PASSWORD/);
  });

  it('gives every container a healthcheck and bounded logs', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test.length, `${name}: healthcheck`).toBeGreaterThan(0);
      expect(service.logging?.driver, `${name}: log driver`).toBe('json-file');
      expect(service.logging?.options?.['max-size'], `${name}: log max-size`).toMatch(/^\d+m$/);
      expect(service.logging?.options?.['max-file'], `${name}: log max-file`).toMatch(/^\d+$/);
    }
  });

  it('runs the six from the published images of this release, with build: kept for local builds, as RUNNERHUB_UID', () => {
    for (const name of SERVICES) {
      const service = compose.services[name]!;
      expect(interpolate(service.image ?? '', {}), `${name}: image`).toBe(`ghcr.io/runnerhub/runnerhub-${name}:${rootVersion}`);
      expect(service.build, `${name}: build`).toBeDefined();
      expect(service.env_file, `${name}: env_file`).toEqual(['${RUNNERHUB_ENV_FILE:-.env}']);
      expect(interpolate(service.user ?? '', { RUNNERHUB_UID: '1026', RUNNERHUB_GID: '100' }), `${name}: user`).toBe('1026:100');
    }
    expect(dotEnv['RUNNERHUB_VERSION'], 'example.env RUNNERHUB_VERSION').toBe(rootVersion);
  });

  it('pins every upstream image to a version', () => {
    const upstream = Object.entries(compose.services).filter(([name]) => !(SERVICES as readonly string[]).includes(name));
    for (const [name, service] of upstream) expect(service.image, `${name}: image`).toMatch(/:v?\d+\.\d+(\.\d+)?(-alpine)?$/);
  });

  it('keeps PostgreSQL and NATS data under RUNNERHUB_DATA', () => {
    const data = (name: string, target: string) => (compose.services[name]!.volumes ?? []).map((v) => interpolate(v, { RUNNERHUB_DATA: '/volume1/runnerhub' })).find((v) => v.endsWith(`:${target}`));
    expect(data('postgres', '/var/lib/postgresql/data')).toBe('/volume1/runnerhub/postgres:/var/lib/postgresql/data');
    expect(data('nats', '/data')).toBe('/volume1/runnerhub/nats:/data');
  });

  it('has every variable it reads in example.env, and lists every file a person creates in its header', () => {
    const read = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    const offered = parseEnvFile(exampleEnvText, true);
    expect([...read].filter((v) => !(v in offered)), 'variables docker-compose.yml reads that example.env does not offer').toEqual([]);
    const header = composeText.slice(0, composeText.indexOf('\nx-'));
    const secretFiles = Object.values(compose.secrets).map((s) => interpolate(s.file, {}).replace(/^\.\//, ''));
    expect(secretFiles).toHaveLength(4);
    for (const file of ['.env', ...secretFiles, 'config/pools.yaml']) expect(header, `the header names ${file}`).toContain(file);
  });
});
