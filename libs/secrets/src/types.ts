/** A secret a service needs: read from env, a file, or Vault, in that order. */
export interface SecretSpec {
  /** The environment variable name, e.g. GITHUB_WEBHOOK_SECRET; also the key inside Vault. */
  name: string;
  required: boolean;
  description: string;
}

/** The part of a pino logger this library writes to. */
export interface SecretsLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface Secrets {
  /** The value; throws naming the secret when it was not resolved. */
  get(name: string): string;
  /** The value, or undefined for an optional secret that is not set. */
  find(name: string): string | undefined;
  /** Every resolved value, for the logger's scrubber. */
  values(): string[];
  names(): string[];
  /** Reads every secret again (e.g. after a rotation in Vault). */
  refresh(): Promise<void>;
  /** Stops token renewal. */
  close(): Promise<void>;
}

export class MissingSecretsError extends Error {
  constructor(readonly missing: Array<{ name: string; lookedAt: string[] }>) {
    super(
      `missing required secrets:\n${missing.map((m) => `  ${m.name} (looked at: ${m.lookedAt.join(', ')})`).join('\n')}`,
    );
    this.name = 'MissingSecretsError';
  }
}

export class UnknownSecretError extends Error {
  constructor(name: string) {
    super(`secret ${name} is not configured (not declared by this service, or optional and not set)`);
    this.name = 'UnknownSecretError';
  }
}
