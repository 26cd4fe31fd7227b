/**
 * The six services' memory at rest in half a minute: the platform as the whole-path tests start it,
 * one warm runner, 15 s to settle, then RSS, PSS and USS of each service (see proc.ts for what each
 * means). For checking a change's footprint quickly; `run.ts` measures it under load.
 *
 *   node --conditions=runnerhub-source --import tsx bench/platform/idle-memory.ts
 *
 * BENCH_FROM=source runs the services through tsx instead of from dist/ (`make build` first).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startPlatform, SERVICES } from '@runnerhub/e2e';
import { memoryMB, type Memory } from './proc.js';

const compiled = process.env.BENCH_FROM !== 'source';
const platform = await startPlatform({
  compiled,
  pools: `pools:
  - name: idle
    repository: acme/app
    labels: [idle]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    minIdle: 1
    max: 1
`,
});
try {
  await sleep(15_000);
  const total: Memory = { rss: 0, pss: 0, uss: 0 };
  console.log(`services ${compiled ? 'compiled' : 'from source'}, MB   RSS    PSS    USS`);
  for (const s of SERVICES) {
    const m = memoryMB(platform.services[s]?.child.pid);
    for (const k of ['rss', 'pss', 'uss'] as const) total[k] += m[k];
    console.log(`${s.padEnd(28)} ${m.rss.toFixed(0).padStart(5)}  ${m.pss.toFixed(0).padStart(5)}  ${m.uss.toFixed(0).padStart(5)}`);
  }
  console.log(`${'all six'.padEnd(28)} ${total.rss.toFixed(0).padStart(5)}  ${total.pss.toFixed(0).padStart(5)}  ${total.uss.toFixed(0).padStart(5)}`);
} finally {
  await platform.stop();
}
