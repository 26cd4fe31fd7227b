/**
 * The platform bench twice in one go, six processes and then the six in one process
 * (services/all-in-one), under the same load on the same machine; then the memory of the two side
 * by side with the ratio and PASS/MISS against issue 27's goal (the six under 150 MB PSS together
 * in one process, under load). Every other figure of run.ts is printed for both runs as well.
 *
 *   node --conditions=runnerhub-source --import tsx bench/platform/all-in-one.ts [seconds]
 *
 * Takes run.ts's environment (BENCH_RATE, BENCH_FROM, ...); [seconds] as run.ts's (default 60).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const GOAL_MB = 150;
const runTs = fileURLToPath(new URL('./run.ts', import.meta.url));
interface Figures {
  mode: 'six' | 'one';
  idlePss: number;
  peakPss: number;
  peakRss: number;
}

async function bench(allInOne: boolean): Promise<Figures> {
  const child = spawn(process.execPath, ['--conditions=runnerhub-source', '--import', 'tsx', runTs, ...process.argv.slice(2)], {
    env: { ...process.env, BENCH_ALL_IN_ONE: allInOne ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let figures: Figures | undefined;
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    process.stdout.write(d);
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('memory-figures ')) figures = JSON.parse(line.slice('memory-figures '.length)) as Figures;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (!figures) throw new Error(`run.ts (${allInOne ? 'all in one' : 'six processes'}) ended (code ${code ?? '?'}) without its memory figures`);
  return figures;
}

console.log('== six processes');
const six = await bench(false);
console.log('\n== all six in one process');
const one = await bench(true);
const mb = (n: number) => `${n.toFixed(0)} MB`.padStart(8);
console.log('\nmemory, PSS            six processes  one process  ratio');
console.log(`at rest (idle mean)    ${mb(six.idlePss)}      ${mb(one.idlePss)}    ${(one.idlePss / six.idlePss).toFixed(2)}`);
console.log(`under load (peak)      ${mb(six.peakPss)}      ${mb(one.peakPss)}    ${(one.peakPss / six.peakPss).toFixed(2)}`);
console.log(`(RSS under load, peak  ${mb(six.peakRss)}      ${mb(one.peakRss)})`);
console.log(`goal: the six in one process under load < ${GOAL_MB} MB PSS: ${one.peakPss.toFixed(0)} MB  ${one.peakPss < GOAL_MB ? 'PASS' : 'MISS'}`);
