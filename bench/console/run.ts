/**
 * What the console's live updates cost the metrics service: its CPU while 10 jobs a second go
 * through the facts it reads (job.queued → started → completed, three facts each), first with no
 * browser on the console, then with Debian's Chromium on the Now page (one event stream). Prints the
 * CPU of both phases (percent of one core), the difference, the refreshes and events the console
 * sent, and PASS or MISS against issue 26's goal: the live updates under 5 % CPU.
 *
 *   node --conditions=runnerhub-source --import tsx bench/console/run.ts [seconds per phase]   (default 30)
 *
 * The jobs are facts published straight to JetStream, not containers: the machine could not run 10
 * containers a second, and the metrics service cannot tell the difference. The scheduler and the
 * pool-manager run (the console reads their admin APIs); the status-reporter does not (it would
 * write check runs for the made-up jobs).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { contractsCodec, create, JobCompletedSchema, JobQueuedSchema, JobStartedSchema, timestampFromMs, WorkflowJobConclusion, type SubjectMessages } from '@runnerhub/contracts';
import { startPlatform } from '@runnerhub/e2e';
import { createPublisher } from '@runnerhub/platform';
import { cpuSeconds } from '../platform/proc.js';

const SECONDS = Number(process.argv[2] ?? 30);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const GOAL_PERCENT = 5;

const platform = await startPlatform({
  pools: `pools:
  - name: bench
    repository: acme/app
    labels: [bench]
    image: runnerhub/fake-runner:dev
    pullPolicy: never
    max: 1
`,
  services: ['container-executor', 'pool-manager', 'scheduler', 'metrics'],
});
const metrics = platform.services.metrics!;
const pid = metrics.child.pid;
const publisher = createPublisher<SubjectMessages>(platform.nc, contractsCodec);
let next = 9_000_000_000 + Math.floor(Math.random() * 1_000_000);

/** Publishes RATE jobs a second (three facts each) for `seconds`; returns the metrics service's CPU percent. */
async function phase(seconds: number): Promise<number> {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    for (; sent < due; sent++) {
      const id = BigInt(next++);
      const now = Date.now();
      const job = { jobId: id, workflowName: 'ci', jobName: 'build', repository: { owner: 'acme', name: 'app', fullName: 'acme/app' } };
      await publisher.publish('job.queued', create(JobQueuedSchema, { job, pool: 'bench', queuedAt: timestampFromMs(now - 300), matchedAt: timestampFromMs(now - 200) }), { msgId: `bench-q-${id}` });
      await publisher.publish('job.started', create(JobStartedSchema, { job, pool: 'bench', queuedAt: timestampFromMs(now - 300), startedAt: timestampFromMs(now - 100) }), { msgId: `bench-s-${id}` });
      await publisher.publish('job.completed', create(JobCompletedSchema, { job, pool: 'bench', conclusion: WorkflowJobConclusion.SUCCESS, queuedAt: timestampFromMs(now - 300), startedAt: timestampFromMs(now - 100), completedAt: timestampFromMs(now) }), { msgId: `bench-c-${id}` });
    }
    await sleep(20);
  }
  const elapsed = (performance.now() - t0) / 1000;
  return ((cpuSeconds(pid) - cpu0) / elapsed) * 100;
}

try {
  await sleep(3000);
  const without = await phase(SECONDS);

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  const page = await browser.newPage();
  let events = 0;
  page.on('console', () => undefined);
  await page.goto(`${metrics.url}/console/login`);
  await page.getByLabel('Admin token').fill(platform.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${metrics.url}/console`);
  // Counts the updates the page receives, from the page itself.
  await page.evaluate(`new MutationObserver(() => { globalThis.updates = (globalThis.updates || 0) + 1; }).observe(document.getElementById('now'), { childList: true })`);
  await sleep(2000);
  const withBrowser = await phase(SECONDS);
  events = await page.evaluate<number>('globalThis.updates || 0');
  await browser.close();

  const cost = withBrowser - without;
  const pass = cost < GOAL_PERCENT;
  console.log(`console live updates at ${RATE} jobs/s (${3 * RATE} facts/s), ${SECONDS} s per phase, metrics service CPU (percent of one core):`);
  console.log(`  without a browser          ${without.toFixed(1)} %`);
  console.log(`  with a browser on /console ${withBrowser.toFixed(1)} %  (${events} page updates, ${(events / SECONDS).toFixed(1)}/s)`);
  console.log(`  cost of the live updates   ${cost.toFixed(1)} %   goal < ${GOAL_PERCENT} %: ${pass ? 'PASS' : 'MISS'}`);
} finally {
  await platform.stop();
}
