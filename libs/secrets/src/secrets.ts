import { readSecretFile, dockerSecretPath } from './files.js';
import type { VaultSource } from './vault.js';
import { MissingSecretsError, UnknownSecretError, type SecretSpec, type Secrets, type SecretsLog } from './types.js';

export interface LoadOptions {
  env: NodeJS.ProcessEnv;
  /** Where Docker secrets are mounted; default /run/secrets. */
  secretsDir?: string;
  log?: SecretsLog;
}

const silent: SecretsLog = { info() {}, warn() {}, error() {}, debug() {} };

/** Every variable a spec may be read from, for docs and for the logger's redaction list. */
export function secretEnvVarNames(specs: readonly SecretSpec[]): string[] {
  return specs.flatMap((s) => [s.name, `${s.name}_FILE`]);
}

async function envOrFile(env: NodeJS.ProcessEnv, name: string): Promise<string | undefined> {
  const direct = env[name];
  if (direct) return direct;
  const file = env[`${name}_FILE`];
  if (file) {
    const v = await readSecretFile(file);
    if (v === undefined) throw new Error(`${name}_FILE names ${file}, which does not exist`);
    return v;
  }
  return undefined;
}

/**
 * Resolves every secret once, at start. Per name the first hit wins: the variable itself, the file
 * named by `<NAME>_FILE`, `<secretsDir>/<name>` (Docker secrets), then Vault KV v2 when VAULT_ADDR is
 * set. All missing required secrets are reported together.
 */
export async function loadSecrets(specs: readonly SecretSpec[], o: LoadOptions): Promise<Secrets> {
  const log = o.log ?? silent;
  const dir = o.secretsDir ?? '/run/secrets';
  let vault: VaultSource | undefined;
  const vaultAddr = o.env.VAULT_ADDR;
  const vaultMount = o.env.VAULT_KV_MOUNT || 'secret';
  const vaultPath = o.env.VAULT_SECRET_PATH || 'runnerhub';
  const values = new Map<string, string>();

  const resolve = async () => {
    const found = new Map<string, string>();
    let fromVault: Record<string, string> | undefined;
    const missing: Array<{ name: string; lookedAt: string[] }> = [];
    for (const spec of specs) {
      let v = (await envOrFile(o.env, spec.name)) ?? (await readSecretFile(dockerSecretPath(dir, spec.name)));
      if (v === undefined && vaultAddr) {
        if (!vault) {
          // Loaded only when Vault is used: node-vault and its HTTP stack cost every service ≈18 MB resident.
          const { connectVault } = await import('./vault.js');
          vault = await connectVault({
            addr: vaultAddr,
            token: await envOrFile(o.env, 'VAULT_TOKEN'),
            roleId: await envOrFile(o.env, 'VAULT_ROLE_ID'),
            secretId: await envOrFile(o.env, 'VAULT_SECRET_ID'),
            mount: vaultMount,
            path: vaultPath,
            log,
          });
        }
        fromVault ??= await vault.readAll();
        v = fromVault[spec.name];
      }
      if (v !== undefined && v !== '') found.set(spec.name, v);
      else if (spec.required) {
        missing.push({
          name: spec.name,
          lookedAt: [`$${spec.name}`, `$${spec.name}_FILE`, dockerSecretPath(dir, spec.name), ...(vaultAddr ? [`vault:${vaultMount}/${vaultPath}#${spec.name}`] : [])],
        });
      }
    }
    if (missing.length > 0) throw new MissingSecretsError(missing);
    values.clear();
    for (const [k, v] of found) values.set(k, v);
    log.info({ secrets: [...found.keys()] }, 'secrets resolved');
  };

  try {
    await resolve();
  } catch (err) {
    vault?.close();
    throw err;
  }
  const declared = new Set(specs.map((s) => s.name));
  return {
    get(name) {
      const v = values.get(name);
      if (v === undefined) throw new UnknownSecretError(name);
      return v;
    },
    find(name) {
      if (!declared.has(name)) throw new UnknownSecretError(name);
      return values.get(name);
    },
    values: () => [...values.values()],
    names: () => [...values.keys()],
    refresh: resolve,
    async close() {
      vault?.close();
    },
  };
}
