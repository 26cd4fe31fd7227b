/**
 * The six services' memory at rest in about a minute, as six processes and then all in one
 * process (services/all-in-one), one after the other in the same run: the platform as the
 * whole-path tests start it, one warm runner, 15 s to settle, then RSS, PSS and USS of each process
 * (see proc.ts for what each means). For checking a change's footprint quickly; `run.ts` measures
 * it under load (BENCH_ALL_IN_ONE=1 there, or `all-in-one.ts` for both modes under load).
 *
 *   node --conditions=runnerhub-source --import tsx bench/platform/idle-memory.ts
 *
 * BENCH_FROM=source runs the services through tsx instead of from dist/ (`make build` first).
 * BENCH_MODES=six or =one measures one mode only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startPlatform, SERVICES } from '@runnerhub/e2e';
import { memoryMB, type Memory } from './proc.js';

const compiled = process.env.BENCH_FROM !== 'source';
const modes = (process.env.BENCH_MODES ?? 'six,one').split(',');
/** issue 27: the six in one process under 150 MB of PSS. */
const ONE_PROCESS_GOAL_MB = 150;
const pools = `pools:
  - name: idle
    repository: acme/app
    labels: [idle]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    minIdle: 1
    max: 1
`;
const row = (name: string, m: Memory) => `${name.padEnd(28)} ${m.rss.toFixed(0).padStart(5)}  ${m.pss.toFixed(0).padStart(5)}  ${m.uss.toFixed(0).padStart(5)}`;

const totals: Partial<Record<'six' | 'one', Memory>> = {};
for (const mode of modes) {
  const allInOne = mode === 'one';
  const platform = await startPlatform({ compiled, allInOne, pools });
  try {
    await sleep(15_000);
    const total: Memory = { rss: 0, pss: 0, uss: 0 };
    console.log(`\n${allInOne ? 'all six in one process' : 'six processes'}, services ${compiled ? 'compiled' : 'from source'}, MB   RSS    PSS    USS`);
    // One process under six names in the all-in-one: counted once.
    const pids = new Map<number, string>();
    for (const s of SERVICES) {
      const pid = platform.services[s]?.child.pid;
      if (pid !== undefined && !pids.has(pid)) pids.set(pid, allInOne ? 'all-in-one' : s);
    }
    for (const [pid, name] of pids) {
      const m = memoryMB(pid);
      for (const k of ['rss', 'pss', 'uss'] as const) total[k] += m[k];
      if (!allInOne) console.log(row(name, m));
    }
    console.log(row(allInOne ? 'all six, one process' : 'all six', total));
    totals[allInOne ? 'one' : 'six'] = total;
  } finally {
    await platform.stop();
  }
}
const { six, one } = totals;
if (one) {
  console.log(`\nPSS at rest: all in one process ${one.pss.toFixed(0)} MB${six ? `, six processes ${six.pss.toFixed(0)} MB, ratio ${(one.pss / six.pss).toFixed(2)}` : ''}`);
  console.log(`goal: the six in one process < ${ONE_PROCESS_GOAL_MB} MB PSS (under load: run.ts)  ${one.pss < ONE_PROCESS_GOAL_MB ? 'PASS' : 'MISS'} at rest`);
}
