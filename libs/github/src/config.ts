import { Type } from '@sinclair/typebox';
import { env } from '@runnerhub/platform';

/** The GitHub App settings a service includes in its config schema (the private key is a secret). */
export const githubConfig = () =>
  Type.Object({
    apiUrl: env.url('GITHUB_API_URL', {
      default: 'https://api.github.com',
      protocols: ['https', 'http'],
      description: 'GitHub REST API base: https://api.github.com, https://<host>/api/v3 for GitHub Enterprise Server, or the local simulator.',
    }),
    appId: env.integer('GITHUB_APP_ID', { default: 0, minimum: 0, description: 'The GitHub App id; 0 means no App is configured (demo mode uses the simulator).' }),
    clientId: env.optionalString('GITHUB_APP_CLIENT_ID', { description: "The App's client id; when set it is the JWT issuer (GitHub's recommendation)." }),
    jitPerMinute: env.integer('GITHUB_JIT_PER_MINUTE', {
      default: 150,
      minimum: 1,
      maximum: 1000,
      description: 'JIT runner registrations per minute for the App, shared by every service (GitHub starts refusing at about 166).',
    }),
  });

export const githubPrivateKeySecret = {
  name: 'GITHUB_APP_PRIVATE_KEY',
  required: false,
  description: "The GitHub App's private key (PEM); GITHUB_APP_PRIVATE_KEY_FILE names a file holding it.",
};
