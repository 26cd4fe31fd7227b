export { loadSecrets, secretEnvVarNames } from './secrets.js';
export type { LoadOptions } from './secrets.js';
export { MissingSecretsError, UnknownSecretError } from './types.js';
export type { SecretSpec, Secrets, SecretsLog } from './types.js';
