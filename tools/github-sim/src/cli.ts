import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGitHubSim } from './server.js';

/**
 * `github-sim serve` runs a simulator; every other command drives a running one over `/_sim/*`
 * (README.md), so a demo, a test and a person at a shell can share one simulated GitHub.
 */

const USAGE = `github-sim <command> [options]

  serve        run a simulator          --port 8900 --host 127.0.0.1 --webhook-url URL --webhook-secret S
                                        --runner-url URL | --runner-host HOST --app-id N --private-key-file PEM (created when missing)
                                        --installation acme:app,web (repeatable) --app-file FILE (writes the App's credentials)
                                        --flavour github.com|ghes --poll-wait 50s --session-idle 60s --completed-delay 0s --bom
  app          print the App's id, client id, webhook secret and private key
  installation --account acme --repos app,web [--user]
  job          --repo acme/app --labels self-hosted,linux [--name build] [--duration 5s] [--command "make test"]
               [--conclusion failure] [--count N]
  cancel       --id JOB_ID
  jobs         [--status queued|in_progress|completed]
  runners
  deliveries
  ping
  fault        [--drop 0.3] [--duplicate 0.1] [--delay 0-2000] [--reorder] [--rest 'POST:generate-jitconfig:502:3']
               [--drop-acks N] [--bom] | --clear
  scale-sets   (the Actions service's scale sets, sessions, statistics)
  scale-set    --repo acme/app | --org acme  --name rh-small [--group-id 1] [--labels a,b]
  runner-group --org acme --name gpu
  expire-tokens [--admin] [--queue]          (scale-set tokens; an open poll answers 401)
  limits       [--installation N] [--app N] [--jit-per-minute N]
  clock        --advance 24h

  --sim-url URL (env GITHUB_SIM_URL, default http://127.0.0.1:8900) for every command but serve`;

function duration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text} (use 500ms, 5s, 2m, 24h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!;
  return Math.round(Number(match[1]) * unit);
}

function flavour(text: string | undefined): 'github.com' | 'ghes' | undefined {
  if (text === undefined || text === 'github.com' || text === 'ghes') return text;
  throw new Error(`--flavour ${text}: expected github.com or ghes`);
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

async function call(simUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${simUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : {};
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${(parsed as { message?: string }).message ?? text}`);
  return parsed;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The App's key from a PEM file, made on first use so the App survives restarts. */
function appKey(path: string): string {
  if (!existsSync(path)) {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    writeFileSync(path, pem, { mode: 0o600 });
  }
  return readFileSync(path, 'utf8');
}

async function serve(values: Record<string, string | boolean | string[] | undefined>): Promise<void> {
  const sim = await startGitHubSim({
    port: Number(values['port'] ?? 8900),
    host: (values['host'] as string | undefined) ?? '127.0.0.1',
    webhookUrl: values['webhook-url'] as string | undefined,
    webhookSecret: values['webhook-secret'] as string | undefined,
    runnerUrl: values['runner-url'] as string | undefined,
    runnerHost: values['runner-host'] as string | undefined,
    appId: values['app-id'] ? Number(values['app-id']) : 424_242,
    privateKey: values['private-key-file'] ? appKey(values['private-key-file'] as string) : undefined,
    logger: Boolean(values['verbose']),
    flavour: flavour(values['flavour'] as string | undefined),
    scaleSets: {
      pollWaitMs: values['poll-wait'] ? duration(values['poll-wait'] as string) : undefined,
      sessionIdleSeconds: values['session-idle'] ? duration(values['session-idle'] as string) / 1000 : undefined,
      jobCompletedDelayMs: values['completed-delay'] ? duration(values['completed-delay'] as string) : undefined,
      bom: values['bom'] === true ? true : undefined,
    },
  });
  for (const spec of (values['installation'] as string[] | undefined) ?? []) {
    const [account, repos] = spec.split(':');
    if (!account) throw new Error(`--installation ${spec}: expected account:repo1,repo2`);
    sim.createInstallation({ account, repositories: list(repos) });
  }
  if (values['app-file']) {
    writeFileSync(values['app-file'] as string, JSON.stringify({ ...sim.app, url: sim.url }, null, 2), { mode: 0o600 });
  }
  process.stdout.write(`github-sim listening on ${sim.url} (App ${sim.app.id}, client id ${sim.app.clientId}); webhooks to ${sim.webhook().url ?? '(none)'}\n`);
  const stop = (): void => {
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      'sim-url': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'webhook-url': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'runner-url': { type: 'string' },
      'runner-host': { type: 'string' },
      'app-id': { type: 'string' },
      'private-key-file': { type: 'string' },
      'app-file': { type: 'string' },
      installation: { type: 'string', multiple: true },
      account: { type: 'string' },
      repos: { type: 'string' },
      user: { type: 'boolean' },
      repo: { type: 'string' },
      labels: { type: 'string' },
      name: { type: 'string' },
      duration: { type: 'string' },
      command: { type: 'string' },
      conclusion: { type: 'string' },
      count: { type: 'string' },
      id: { type: 'string' },
      status: { type: 'string' },
      drop: { type: 'string' },
      duplicate: { type: 'string' },
      delay: { type: 'string' },
      reorder: { type: 'boolean' },
      rest: { type: 'string', multiple: true },
      clear: { type: 'boolean' },
      'jit-per-minute': { type: 'string' },
      app: { type: 'string' },
      advance: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
      flavour: { type: 'string' },
      'poll-wait': { type: 'string' },
      'session-idle': { type: 'string' },
      'completed-delay': { type: 'string' },
      bom: { type: 'boolean' },
      'drop-acks': { type: 'string' },
      org: { type: 'string' },
      'group-id': { type: 'string' },
      admin: { type: 'boolean' },
      queue: { type: 'boolean' },
    },
  });
  const simUrl = values['sim-url'] ?? process.env['GITHUB_SIM_URL'] ?? 'http://127.0.0.1:8900';
  switch (command) {
    case 'serve':
      return serve(values);
    case 'app':
      return print(await call(simUrl, 'GET', '/_sim/app'));
    case 'installation':
      return print(
        await call(simUrl, 'POST', '/_sim/installations', {
          account: values.account,
          type: values.user ? 'User' : 'Organization',
          repositories: list(values.repos),
        }),
      );
    case 'job': {
      const count = Number(values.count ?? 1);
      const created = [];
      for (let i = 0; i < count; i++) {
        created.push(
          await call(simUrl, 'POST', '/_sim/jobs', {
            repository: values.repo,
            labels: list(values.labels ?? 'self-hosted'),
            name: values.name,
            durationMs: values.duration ? duration(values.duration) : undefined,
            command: values.command,
            conclusion: values.conclusion,
          }),
        );
      }
      return print(count === 1 ? created[0] : created);
    }
    case 'cancel':
      return print(await call(simUrl, 'POST', `/_sim/jobs/${values.id}/cancel`));
    case 'jobs':
      return print(await call(simUrl, 'GET', `/_sim/jobs${values.status ? `?status=${values.status}` : ''}`));
    case 'runners':
      return print(await call(simUrl, 'GET', '/_sim/runners'));
    case 'deliveries': {
      const deliveries = (await call(simUrl, 'GET', '/_sim/deliveries')) as Record<string, unknown>[];
      return print(deliveries.map(({ payload: _payload, requestHeaders: _headers, ...summary }) => summary));
    }
    case 'ping':
      return print(await call(simUrl, 'POST', '/_sim/ping'));
    case 'fault': {
      if (values.clear) return print(await call(simUrl, 'DELETE', '/_sim/faults'));
      const [min, max] = (values.delay ?? '').split('-').map(Number);
      const rest = (values.rest ?? []).map((spec) => {
        const [method, path, status, times] = spec.split(':');
        return { method: method || undefined, path: path ?? '.', status: status ? Number(status) : undefined, times: times ? Number(times) : undefined };
      });
      return print(
        await call(simUrl, 'PUT', '/_sim/faults', {
          webhooks: {
            dropRate: values.drop ? Number(values.drop) : undefined,
            duplicateRate: values.duplicate ? Number(values.duplicate) : undefined,
            delayMs: values.delay ? [min ?? 0, max ?? min ?? 0] : undefined,
            reorder: values.reorder,
          },
          rest,
          scaleSets: { dropAcks: values['drop-acks'] ? Number(values['drop-acks']) : undefined, bom: values.bom },
        }),
      );
    }
    case 'scale-sets':
      return print(await call(simUrl, 'GET', '/_sim/scale-sets'));
    case 'scale-set':
      return print(
        await call(simUrl, 'POST', '/_sim/scale-sets', {
          repository: values.repo,
          org: values.org,
          name: values.name,
          runnerGroupId: values['group-id'] ? Number(values['group-id']) : undefined,
          labels: values.labels ? list(values.labels) : undefined,
        }),
      );
    case 'runner-group':
      return print(await call(simUrl, 'POST', '/_sim/runner-groups', { org: values.org, name: values.name }));
    case 'expire-tokens':
      return print(await call(simUrl, 'POST', '/_sim/scale-sets/expire-tokens', { admin: values.admin === true, queue: values.queue === true }));
    case 'limits':
      return print(
        await call(simUrl, 'PUT', '/_sim/rate-limits', {
          installation: values.installation ? Number(values.installation[0]) : undefined,
          app: values.app ? Number(values.app) : undefined,
          jitPerMinute: values['jit-per-minute'] ? Number(values['jit-per-minute']) : undefined,
        }),
      );
    case 'clock':
      return print(await call(simUrl, 'POST', '/_sim/clock', { advanceMs: duration(values.advance ?? '0') }));
    default:
      process.stdout.write(`${USAGE}\n`);
      if (command && command !== 'help' && !values.help) process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`github-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
