/**
 * bench/scaleset (issue 22): pick-up through GitHub's runner scale-set queue (the gateway's
 * listener long-polls the simulator; no webhook at all) against pick-up through webhooks, warm and
 * cold, in the same run: the same bench process starts the platform twice, back to back, with the
 * same pools but for their intake (webhook pools reached by labels; scale-set pools by name, the
 * simulator sending no webhook). Pick-up is queued → in_progress at the simulator; for cold jobs
 * also queued → the create command of the runner that took the job (what the intake adds before
 * the runner's own start).
 *
 *   node --conditions=runnerhub-source --import tsx bench/scaleset/run.ts [samples per variant]
 *
 * BENCH_WAVE (jobs at once, default 3), BENCH_FROM=source (services through tsx; default compiled,
 * `make build` first). Not a test: it prints figures and the ratio scale set / webhook; the
 * simulator's empty polls end after 50 s as GitHub's do (a job ends a waiting poll at once).
 */
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { contractsCodec, type CreateRunnerCommand } from '@runnerhub/contracts';
import { startPlatform, type Platform } from '@runnerhub/e2e';
import { waitFor } from '@runnerhub/testing';
import { percentile } from '../platform/proc.js';

const SAMPLES = Number(process.argv[2] ?? 12);
const WAVE = Number(process.env.BENCH_WAVE ?? 3);
const IMAGE = 'runnerhub/fake-runner:dev';
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const fmt = (ms: number): string => (Number.isNaN(ms) ? '—' : `${ms.toFixed(0)} ms`);
const say = (line: string): void => console.log(line);

type Intake = 'webhook' | 'scaleset';
const pool = (name: string, intake: Intake, extra: string): string => `  - name: ${name}
    repository: acme/app
${intake === 'webhook' ? `    labels: [${name}]` : '    intake: scaleset'}
    image: ${IMAGE}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
${extra}`;
// runs-on: a webhook pool's labels; a scale set is reached by its name alone.
const runsOn = (name: string, intake: Intake): string[] => (intake === 'webhook' ? ['self-hosted', name] : [name]);

interface Figures {
  intake: Intake;
  warm: number[];
  cold: number[];
  coldToCommand: number[];
  load: string;
}

async function measure(intake: Intake): Promise<Figures> {
  const warmPool = `${intake === 'webhook' ? 'wh' : 'ss'}-warm`;
  const coldPool = `${intake === 'webhook' ? 'wh' : 'ss'}-cold`;
  const platform: Platform = await startPlatform({
    pools: `pools:\n${pool(warmPool, intake, `    minIdle: ${WAVE}\n    max: ${2 * WAVE}`)}\n${pool(coldPool, intake, `    max: ${WAVE}\n    idleTimeoutSeconds: 5`)}\n`,
    compiled: process.env.BENCH_FROM !== 'source',
    webhooks: intake === 'webhook',
    common: { GITHUB_JIT_PER_MINUTE: '1000' },
  });
  const { sim, nc } = platform;
  sim.setRateLimits({ jitPerMinute: 100_000 });
  const commandedAt = new Map<string, number>();
  const sub = nc.subscribe('cmd.executor.*.create');
  void (async () => {
    for await (const m of sub) commandedAt.set((contractsCodec.decode(m.subject, m.data) as CreateRunnerCommand).runner?.runnerName ?? '', Date.now());
  })();
  const figures: Figures = { intake, warm: [], cold: [], coldToCommand: [], load: load() };
  const wave = async (name: string): Promise<ReturnType<typeof sim.job>[]> => {
    const ids = Array.from({ length: WAVE }, () => sim.createJob({ repository: 'acme/app', labels: runsOn(name, intake), command: 'true' }).id);
    return waitFor(() => { const js = ids.map((id) => sim.job(id)!); return js.every((j) => j.status === 'completed') && js; }, { timeoutMs: 180_000, what: `${name} wave\n${platform.output()}` });
  };
  try {
    const idle = (): number => sim.runners().filter((r) => r.name.startsWith(`rh-${warmPool}-`) && r.status === 'online' && !r.busy).length;
    while (figures.warm.length < SAMPLES) {
      await waitFor(() => idle() >= WAVE, { timeoutMs: 180_000, intervalMs: 100, what: `${WAVE} idle ${warmPool} runners\n${platform.output()}` });
      await sleep(500);
      for (const j of await wave(warmPool)) figures.warm.push(Date.parse(j!.startedAt!) - Date.parse(j!.createdAt));
    }
    while (figures.cold.length < SAMPLES) {
      await waitFor(async () => (await platform.containers()).every((c) => c.pool !== coldPool), { timeoutMs: 180_000, intervalMs: 250, what: `no ${coldPool} runner left` });
      await sleep(500);
      for (const j of await wave(coldPool)) {
        figures.cold.push(Date.parse(j!.startedAt!) - Date.parse(j!.createdAt));
        const commanded = commandedAt.get(j!.runnerName ?? '');
        if (commanded !== undefined) figures.coldToCommand.push(commanded - Date.parse(j!.createdAt));
      }
    }
  } finally {
    sub.unsubscribe();
    await platform.stop();
  }
  return figures;
}

say(`scale-set bench: ${SAMPLES} warm and ${SAMPLES} cold jobs per intake in waves of ${WAVE}; load average at start ${load()} on ${cpus().length} cores`);
const results: Figures[] = [];
for (const intake of ['webhook', 'scaleset'] as const) {
  say(`\n== ${intake} (load average ${load()})`);
  results.push(await measure(intake));
}
say(`\nload average now ${load()}`);
say('intake     warm p50   warm p95   cold p50   cold p95   cold: queued → create command p50 / p95');
for (const r of results) {
  const p = (xs: number[], q: number): string => fmt(percentile(xs, q)).padStart(9);
  say(`${r.intake.padEnd(9)} ${p(r.warm, 50)}  ${p(r.warm, 95)}  ${p(r.cold, 50)}  ${p(r.cold, 95)}   ${p(r.coldToCommand, 50)} / ${p(r.coldToCommand, 95)}   (load at its start ${r.load})`);
}
const [webhook, scaleset] = results as [Figures, Figures];
say(`ratio scale set / webhook: warm p95 ${(percentile(scaleset.warm, 95) / percentile(webhook.warm, 95)).toFixed(2)}x, cold p50 ${(percentile(scaleset.cold, 50) / percentile(webhook.cold, 50)).toFixed(2)}x, cold p95 ${(percentile(scaleset.cold, 95) / percentile(webhook.cold, 95)).toFixed(2)}x`);
process.exit(0);
