/** Helpers shared by the webhook-ingest scripts: the payload, and CPU time of a process from /proc. */
import { readdirSync, readFileSync } from 'node:fs';
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };

type Example = { name: string; examples: Array<{ action: string }> };

/** The `workflow_job` `queued` example GitHub documents, as the bytes every target is sent. */
export function workflowJobPayload(): string {
  return JSON.stringify((examples as unknown as Example[]).find((e) => e.name === 'workflow_job')!.examples.find((e) => e.action === 'queued'));
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User + system CPU seconds a process has used so far (Linux /proc); NaN where /proc is unavailable. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name, which may itself hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** The first process whose command line contains `needle` (e.g. a nats-server's store dir). */
export function pidOf(needle: string): number | undefined {
  return pidsOf(needle)[0];
}

/** Every process whose command line contains `needle`: e.g. the Postgres backends of one database ("postgres: user db ..."). */
export function pidsOf(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
