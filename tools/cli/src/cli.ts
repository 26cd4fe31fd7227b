import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, watch } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import tab from '@bomb.sh/tab/commander';
import { Argument, Command, CommanderError, InvalidArgumentError } from 'commander';
import { createClients, type Clients } from './client.js';
import { resolveSettings, SERVICE_NAMES, type SettingFlags } from './config.js';
import { CliError, EXIT } from './errors.js';
import * as ops from './operations.js';
import { RUNNERHUB_CLI_VERSION } from './version.js';
import { ago, renderHosts, renderJobs, renderPools, renderRunners, renderStatus, table } from './render.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const SEED_MAPPING = `
The seven commands RunnerHub was specified from, and ours:
  start the autoscaler            runnerhub pool resume <pool>
  stop the autoscaler             runnerhub pool drain <pool>
  status                          runnerhub status
  list workflow queues            runnerhub jobs --waiting   (runnerhub why <job>)
  list runner containers          runnerhub runners [--pool P]
  provision runners for a repo    runnerhub provision <pool> --count N
  stop a container                runnerhub runner remove <name>

Settings: RUNNERHUB_URL (or RUNNERHUB_<SERVICE>_URL), RUNNERHUB_TOKEN, or a profile file of mode 0600
(RUNNERHUB_PROFILE; make run writes .run/runnerhub.env). Exit codes: 0 ok, 1 not healthy or not done
in time, 2 bad arguments, 3 a service did not answer, 4 token missing or refused, 5 not found,
6 refused by the service, 7 the service failed. docs/cli.md has it all.`;

const integer = (what: string, min = 0) => (v: string) => {
  if (!/^[0-9]+$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`${what} must be a whole number of at least ${min}`);
  return Number(v);
};

/** 90s, 30m, 2h, 1d (or seconds). */
export const duration = (v: string): number => {
  const m = /^([0-9]+)([smhd]?)$/.exec(v);
  if (!m || Number(m[1]) === 0) throw new InvalidArgumentError('a duration like 90s, 30m, 2h or 1d');
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
};

export async function main(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('runnerhub')
    .description('Ask RunnerHub what it is doing, and tell it what to do.')
    .option('--json', 'print JSON instead of tables (every command)')
    .option('--url <url>', 'every service on its usual port of this host (default: $RUNNERHUB_URL, else http://127.0.0.1)')
    .option('--token <token>', 'the admin API token (default: $RUNNERHUB_TOKEN, or the profile)')
    .option('--profile <file>', 'a profile file of mode 0600 with RUNNERHUB_* lines (default: $RUNNERHUB_PROFILE, .run/runnerhub.env, ~/.config/runnerhub/profile.env)')
    .version(RUNNERHUB_CLI_VERSION)
    .addHelpText('after', SEED_MAPPING)
    .showHelpAfterError('(runnerhub --help lists the commands)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  const globals = () => program.opts<SettingFlags & { json?: boolean }>();
  let clients: Clients | undefined;
  const c = (): Clients => (clients ??= createClients(resolveSettings(globals(), io.env, io.cwd)));
  /** Prints `data` as JSON with --json, else as `human(data)`. */
  const show = <T>(data: T, human: (d: T) => string): void => io.out(globals().json ? JSON.stringify(data, null, 2) : human(data));
  /** An action's exit code: the number it returns, else 0. */
  const act = <A extends unknown[]>(fn: (...args: A) => Promise<unknown>) => async (...args: A) => {
    const result = await fn(...args);
    code = typeof result === 'number' ? result : EXIT.ok;
  };
  const progress = (text: string) => {
    if (!globals().json) io.err(text);
  };

  program
    .command('status')
    .description('one screen: services ready and their versions, hosts, pools, waiting jobs and the oldest one\'s why, dead letters, alerts firing (exit 1 when a service is not ready)')
    .action(act(async () => {
      const s = await ops.status(c());
      show(s, renderStatus);
      return s.healthy ? EXIT.ok : EXIT.unhealthy;
    }));

  program
    .command('jobs')
    .description('jobs, newest first; --waiting: the queue, oldest first')
    .option('--waiting', 'only jobs waiting for a runner (queued), in the order they wait')
    .option('--repo <owner/name>', 'only jobs of this repository')
    .option('--pool <pool>', 'only jobs matched to this pool')
    .option('--limit <n>', 'at most this many', integer('--limit', 1), 50)
    .action(act(async (o: { waiting?: boolean; repo?: string; pool?: string; limit: number }) => {
      if (o.repo && !/^[^/\s]+\/[^/\s]+$/.test(o.repo)) throw new CliError(EXIT.usage, `--repo ${o.repo}: give it as owner/name`);
      show(await ops.listJobs(c(), o), renderJobs);
    }));

  program
    .command('why')
    .description("why a job is still waiting: the scheduler's answer")
    .argument('<job>', "GitHub's id of the job (runnerhub jobs --waiting)")
    .action(act(async (job: string) => {
      show(await ops.why(c(), job), (w) =>
        [
          `job ${w.job.jobId} of ${w.job.repo} (${w.job.jobName}), labels ${w.job.labels.join(',')}, ${w.job.status}${w.since ? `, waiting ${ago(w.since)}` : ''}`,
          `why: ${w.reason}`,
          `  ${w.detail}`,
          ...(w.closestPools.length ? ['closest pools:', ...w.closestPools.map((p) => `  ${p.pool}: missing ${p.missing.join(', ')}`)] : []),
          ...(w.lastError ? [`last error: ${w.lastError}`] : []),
        ].join('\n'),
      );
    }));

  program.command('pools').description('pools with their warm, waiting and busy runners, demand and last error').action(act(async () => show(await ops.listPools(c()), renderPools)));

  const poolCmd = program.command('pool').description('drain, resume or hold warm runners in one pool');
  const drainWait = async (name: string, o: { wait: boolean; timeout: number }, done: (p: ops.PoolView) => boolean, what: string) => {
    if (!o.wait) return EXIT.ok;
    const r = await ops.waitUntil(() => ops.pool(c(), name), done, (p) => progress(`${name}: ${ops.waitingRunners(p)} waiting, ${p.runners['busy'] ?? 0} busy`), o.timeout * 1000);
    if (!r.done) {
      io.err(`${name}: not ${what} after ${o.timeout} s (it goes on; runnerhub pools shows it)`);
      return EXIT.unhealthy;
    }
    return EXIT.ok;
  };
  const waitOptions = (cmd: Command) => cmd.option('--no-wait', 'return at once instead of showing progress until done').option('--timeout <seconds>', 'how long to wait', integer('--timeout', 1), 300);
  waitOptions(
    poolCmd
      .command('drain')
      .description('no new runners in the pool; waiting ones go now, busy ones finish (waits until none is left)')
      .argument('<pool>'),
  ).action(act(async (name: string, o: { wait: boolean; timeout: number }) => {
    show(await ops.setPoolDrained(c(), name, true), (p) => `pool ${p.name} drained: no new runners, ${ops.waitingRunners(p)} waiting ones go now, ${p.runners['busy'] ?? 0} busy ones finish`);
    return drainWait(name, o, (p) => ops.liveRunners(p) === 0, 'empty');
  }));
  poolCmd
    .command('resume')
    .description('undrain a pool: it holds its warm minimum and serves jobs again')
    .argument('<pool>')
    .action(act(async (name: string) => show(await ops.setPoolDrained(c(), name, false), (p) => `pool ${p.name} serves again (warm minimum ${p.warmNow})`)));
  poolCmd
    .command('warm')
    .description("hold N warm runners in the pool instead of its minIdle and warm schedules, for a while (--for) or until --clear")
    .argument('<pool>')
    .option('--min <n>', 'warm runners to hold (0: none)', integer('--min'))
    .option('--for <duration>', 'how long (90s, 30m, 2h, 1d); default: until --clear', duration)
    .option('--clear', "back to the pool's own minIdle and warm schedules")
    .action(act(async (name: string, o: { min?: number; for?: number; clear?: boolean }) => {
      if (Boolean(o.clear) === (o.min !== undefined)) throw new CliError(EXIT.usage, 'give --min N (and --for), or --clear');
      const p = await ops.setPoolWarm(c(), name, o.clear ? null : o.min!, o.for);
      show(p, (x) => (x.warm ? `pool ${x.name} holds ${x.warm.min} warm runners${x.warm.until ? ` until ${x.warm.until}` : ' until runnerhub pool warm --clear'}` : `pool ${x.name} holds its own warm minimum again (${x.warmNow})`));
    }));

  waitOptions(
    program
      .command('provision')
      .description('warm N runners in a pool now and keep them ready for a while (--for, default 1h); waits until they are up')
      .argument('<pool>')
      .option('--count <n>', 'runners to have waiting', integer('--count', 1), 1)
      .option('--for <duration>', 'how long to keep them (90s, 30m, 2h, 1d)', duration, 3600),
  ).action(act(async (name: string, o: { count: number; for: number; wait: boolean; timeout: number }) => {
    const p = await ops.setPoolWarm(c(), name, o.count, o.for);
    if (p.drained) throw new CliError(EXIT.refused, `pool ${name} is drained: runnerhub pool resume ${name} first`);
    if (!o.wait) {
      show(p, (x) => `pool ${x.name}: ${o.count} warm runners asked for, held until ${x.warm?.until ?? '?'}`);
      return EXIT.ok;
    }
    const up = (x: ops.PoolView) => (x.runners['starting'] ?? 0) + (x.runners['idle'] ?? 0);
    const r = await ops.waitUntil(() => ops.pool(c(), name), (x) => up(x) >= o.count, (x) => progress(`${name}: ${up(x)}/${o.count} up, ${ops.waitingRunners(x) - up(x)} booting${x.lastError ? ` (last error: ${x.lastError})` : ''}`), o.timeout * 1000);
    show(r.value, (x) => `pool ${x.name}: ${up(x)} of ${o.count} runners up, held until ${x.warm?.until ?? '?'}`);
    if (!r.done) {
      io.err(`${name}: ${up(r.value)} of ${o.count} runners up after ${o.timeout} s${r.value.lastError ? `: ${r.value.lastError}` : ''}`);
      return EXIT.unhealthy;
    }
  }));

  program
    .command('runners')
    .description('live runners, newest first (--all: ended ones too)')
    .option('--pool <pool>', 'only this pool')
    .option('--all', 'ended runners too')
    .option('--limit <n>', 'at most this many', integer('--limit', 1), 100)
    .action(act(async (o: { pool?: string; all?: boolean; limit: number }) => show(await ops.listRunners(c(), o), renderRunners)));

  program
    .command('runner')
    .description('one runner')
    .command('remove')
    .description('remove a runner: its GitHub registration, then its container (a busy one only with --force, which fails its job)')
    .argument('<name>', 'its name (rh-<pool>-<id>) or id')
    .option('--force', 'stop it even while it runs a job (the job fails)')
    .action(act(async (name: string, o: { force?: boolean }) => show(await ops.removeRunner(c(), name, o.force), (r) => `runner ${r.name} ${r.state}${r.failure ? `: ${r.failure}` : ''}`)));

  program.command('hosts').description('Docker hosts with their budgets, containers and drain state').action(act(async () => show(await ops.listHosts(c()), renderHosts)));
  const hostCmd = program.command('host').description('drain or resume one Docker host');
  hostCmd
    .command('drain')
    .description('no new runners on the host; waiting ones go now, busy ones finish')
    .argument('<host>')
    .action(act(async (host: string) => show(await ops.setHostDrained(c(), host, true), (h) => `host ${h.host} drained: no new runners there`)));
  hostCmd
    .command('resume')
    .description('undrain a host')
    .argument('<host>')
    .action(act(async (host: string) => show(await ops.setHostDrained(c(), host, false), (h) => `host ${h.host} takes runners again`)));

  const dl = program.command('dead-letters').description('messages a consumer gave up on: list, show, replay, delete');
  dl.command('list', { isDefault: true })
    .description('newest first')
    .option('--stream <stream>', 'only from this stream (JOBS, RUNNERS, ...)')
    .option('--limit <n>', 'at most this many', integer('--limit', 1), 50)
    .action(act(async (o: { stream?: string; limit: number }) =>
      show(await ops.listDeadLetters(c(), o), (d) =>
        d.deadLetters.length === 0 ? 'no dead letters' : `${table(['SEQ', 'STREAM', 'SUBJECT', 'CONSUMER', 'REASON', 'AGE'], d.deadLetters.map((l) => [l.seq, l.stream, l.subject, l.consumer, l.reason, ago(l.failedAt)]))}\n${d.total} in all`,
      ),
    ));
  dl.command('show')
    .argument('<seq>')
    .description('one dead letter with its original message')
    .action(act(async (seq: string) => show(await ops.deadLetter(c(), seq), (d) => JSON.stringify(d, null, 2))));
  dl.command('replay')
    .argument('<seq>')
    .description('publish the original message again for the consumer that gave up on it, and drop the dead letter')
    .action(act(async (seq: string) => show(await ops.replayDeadLetter(c(), seq), (r) => `replayed as ${r.subject} #${r.seq} for ${r.consumer}`)));
  dl.command('delete')
    .argument('<seq>')
    .description('drop a dead letter for good')
    .action(act(async (seq: string) => show(await ops.deleteDeadLetter(c(), seq), (r) => `dead letter ${r.deleted} deleted`)));

  program
    .command('doctor')
    .description('check this host for RunnerHub: Docker, the socket proxy, the runner image, GitHub (runs runnerhub-doctor; its options after --)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(act(async (args: string[]) => runDoctor([...args, ...(globals().json ? ['--json'] : [])], io)));

  program
    .command('logs')
    .description('the last lines of a service\'s log where the deployment keeps one (make run: .run/logs); compose: docker compose logs <service>')
    .addArgument(new Argument('<service>', 'which service').choices(SERVICE_NAMES))
    .option('-n, --lines <n>', 'how many lines', integer('--lines', 1), 50)
    .option('-f, --follow', 'keep printing lines as the service writes them, until Ctrl-C')
    .action(act(async (service: string, o: { lines: number; follow?: boolean }) => {
      if (!(SERVICE_NAMES as string[]).includes(service)) throw new CliError(EXIT.usage, `no service ${service}: one of ${SERVICE_NAMES.join(', ')}`);
      const file = findLog(io, service);
      if (!file) throw new CliError(EXIT.notFound, `no log file of the ${service} here (make run keeps .run/logs/${service}.log): under docker compose run docker compose logs ${service}; set RUNNERHUB_LOG_DIR to a directory of <service>.log files`);
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n').filter(Boolean).slice(-o.lines);
      if (!o.follow) return show({ service, file, lines }, (l) => l.lines.join('\n'));
      // Followed lines are printed as the service wrote them (pino's JSON, one per line), --json or not.
      for (const line of lines) io.out(line);
      await followLog(file, Buffer.byteLength(text), (line) => io.out(line));
    }));

  program
    .command('mcp')
    .description('serve these operations as MCP tools over stdio (for an assistant); read tools need a read token, write tools a write token')
    .action(act(async () => {
      const { serveMcp } = await import('./mcp.js');
      await serveMcp(c());
    }));

  // `runnerhub complete bash|zsh|fish|powershell` prints the shell's completion script, which asks
  // `runnerhub complete -- <words>` for suggestions: @bomb.sh/tab reads this command tree, so the
  // completions cannot drift from the commands.
  tab(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CliError) {
      io.err(`runnerhub: ${error.message}`);
      return error.exitCode;
    }
    io.err(`runnerhub: ${(error as Error).stack ?? String(error)}`);
    return EXIT.failed;
  }
}

function findLog(io: Io, service: string): string | undefined {
  const dirs = io.env['RUNNERHUB_LOG_DIR'] ? [resolve(io.cwd, io.env['RUNNERHUB_LOG_DIR'])] : [];
  for (let dir = resolve(io.cwd); ; dir = dirname(dir)) {
    dirs.push(join(dir, '.run', 'logs'));
    if (dirname(dir) === dir) break;
  }
  return dirs.map((d) => join(d, `${service}.log`)).find((f) => existsSync(f));
}

/**
 * Prints each whole line appended to `file` after byte `from`, until SIGINT or SIGTERM. A file
 * that shrinks (rotated or truncated by a restart of make run) is read again from its start.
 */
function followLog(file: string, from: number, line: (text: string) => void): Promise<void> {
  let offset = from;
  let partial = '';
  const readNew = () => {
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size < offset) offset = 0;
    if (size === offset) return;
    const fd = openSync(file, 'r');
    try {
      const chunk = Buffer.alloc(size - offset);
      offset += readSync(fd, chunk, 0, chunk.length, offset);
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) if (p) line(p);
    } finally {
      closeSync(fd);
    }
  };
  return new Promise((done) => {
    // fs.watch misses writes on some file systems (network shares): a slow poll backs it up.
    const watcher = watch(file, readNew);
    const poll = setInterval(readNew, 1000);
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      watcher.close();
      clearInterval(poll);
      readNew();
      done();
    };
    // on, not once: Ctrl-C reaches us twice from a terminal through the dev wrapper (bin/runnerhub.js).
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** tools/doctor's bin beside this package, with this process's node; its exit code is ours. */
async function runDoctor(args: string[], io: Io): Promise<number> {
  // src/ or dist/ of tools/cli: the doctor is two folders up. A service image carries no doctor.
  const bin = fileURLToPath(new URL('../../doctor/bin/runnerhub-doctor.js', import.meta.url));
  if (!existsSync(bin)) throw new CliError(EXIT.notFound, 'the doctor is not installed here (a service image carries none): run make doctor (or npx runnerhub doctor) on the host, from the repository');
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { env: io.env, cwd: io.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (status) => {
      if (out) io.out(out.replace(/\n$/, ''));
      if (err) io.err(err.replace(/\n$/, ''));
      done(status ?? EXIT.failed);
    });
  });
}

