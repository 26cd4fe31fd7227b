/** Helpers of the platform bench: percentiles, /proc readings and a scratch Redis database. */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** Nearest-rank percentile (the value at or above p% of the samples); NaN for no samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Memory {
  /** Resident set size: every page the process has in memory, shared ones included. */
  rss: number;
  /** Proportional set size: private pages, plus each shared page divided by the processes sharing it. */
  pss: number;
  /** Unique set size: the pages only this process has (what stopping it would give back). */
  uss: number;
}

/**
 * Memory of a process in MB (10^6 bytes) from /proc/<pid>/smaps_rollup; NaN once it is gone. RSS
 * alone overstates a group of Node processes: each counts the pages of the node binary it has
 * touched (≈40 MB), which are one copy in the page cache for all of them. The sum of PSS is what
 * the group occupies together.
 */
export function memoryMB(pid: number | undefined): Memory {
  const gone = { rss: Number.NaN, pss: Number.NaN, uss: Number.NaN };
  if (pid === undefined) return gone;
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    const mb = (k: number): number => (k * 1024) / 1e6;
    return { rss: mb(kib('Rss')), pss: mb(kib('Pss')), uss: mb(kib('Private_Clean') + kib('Private_Dirty')) };
  } catch {
    return gone;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User + system CPU seconds a process has used so far; NaN once it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * Deletes the `runnerhub:*` keys of one Redis database (raw RESP, no client library). The bench
 * gives its services a database of their own, so that 10 JIT registrations a second and its
 * cached installation tokens never meet the keys of whatever else runs on this machine's Redis.
 */
export async function clearRedisDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  const script = "for _, k in ipairs(redis.call('KEYS', 'runnerhub:*')) do redis.call('DEL', k) end return 1";
  const command = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(u.port || 6379), u.hostname);
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
      // Three replies: +OK (SELECT), :1 (EVAL), +OK (QUIT).
      if ((answer.match(/\r\n/g) ?? []).length >= 3) {
        socket.end();
        if (answer.startsWith('-') || answer.includes('\r\n-')) reject(new Error(`redis: ${answer.trim()}`));
        else resolve();
      }
    });
    socket.on('error', reject);
    socket.write(command('SELECT', String(db)) + command('EVAL', script, '0') + command('QUIT'));
  });
}
