import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readDockerInfoFile, runDoctor, type DoctorOptions } from './doctor.js';
import { EXIT_USAGE, formatReport } from './findings.js';

/**
 * `runnerhub-doctor` (`make doctor`): settings from the environment the services use, options to
 * override them. Exit 0 ready (warnings allowed), 1 something fails, 2 the doctor could not start.
 */

const USAGE = `usage: runnerhub-doctor [--docker-host tcp://127.0.0.1:2375] [--github-api-url URL] [--webhook-url URL]
                        [--docker-info recorded-docker-info.json] [--json]
environment: DOCKER_HOST, GITHUB_API_URL, GITHUB_APP_ID, GITHUB_APP_CLIENT_ID,
             GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE, GITHUB_WEBHOOK_URL`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, out: (text: string) => void): Promise<number> {
  let options: DoctorOptions;
  let json = false;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        'docker-host': { type: 'string' },
        'github-api-url': { type: 'string' },
        'webhook-url': { type: 'string' },
        'docker-info': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    json = values.json ?? false;
    const appId = Number(env['GITHUB_APP_ID'] ?? 0);
    if (!Number.isInteger(appId) || appId < 0) throw new Error(`GITHUB_APP_ID must be a whole number, not ${env['GITHUB_APP_ID']}`);
    const keyFile = env['GITHUB_APP_PRIVATE_KEY_FILE'];
    const privateKey = env['GITHUB_APP_PRIVATE_KEY'] || (keyFile ? readFileSync(keyFile, 'utf8') : '');
    if (appId > 0 && !privateKey) throw new Error('GITHUB_APP_ID is set but neither GITHUB_APP_PRIVATE_KEY nor GITHUB_APP_PRIVATE_KEY_FILE');
    const githubApiUrl = values['github-api-url'] ?? env['GITHUB_API_URL'] ?? 'https://api.github.com';
    options = {
      dockerHost: values['docker-host'] ?? env['DOCKER_HOST'] ?? 'tcp://127.0.0.1:2375',
      githubApiUrl,
      ...(appId > 0 ? { app: { apiUrl: githubApiUrl, appId, clientId: env['GITHUB_APP_CLIENT_ID'] || undefined, privateKey } } : {}),
      webhookUrl: values['webhook-url'] ?? (env['GITHUB_WEBHOOK_URL'] || undefined),
      ...(values['docker-info'] ? { dockerInfo: readDockerInfoFile(values['docker-info']) } : {}),
    };
  } catch (error) {
    out(`runnerhub-doctor: ${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const doctor = await runDoctor(options);
  out(json ? JSON.stringify(doctor, null, 2) : formatReport(doctor));
  return doctor.exitCode;
}
