import type { NatsConnection } from '@nats-io/transport-node';
import type { MessageCodec, NatsLog, StreamDefinition } from '../src/nats/index.js';
import { connectNats } from '../src/nats/index.js';

/**
 * A JSON codec for the NATS tests. JSON has no bigint or bytes, so they travel as tagged objects;
 * anything that is not JSON fails to decode, as an undecodable protobuf would.
 */
export const jsonCodec: MessageCodec = {
  encode(subject, message) {
    // `this[k]` is the value before toJSON(): a Buffer would otherwise arrive as { type, data }.
    const text = JSON.stringify(message, function (this: Record<string, unknown>, k, v: unknown) {
      const raw = this[k];
      if (typeof raw === 'bigint') return { $bigint: raw.toString() };
      if (raw instanceof Uint8Array) return { $bytes: Buffer.from(raw).toString('base64') };
      return v;
    });
    return { data: new TextEncoder().encode(text), schema: subject.startsWith('dead.') ? 'test.DeadLetter' : 'test.Json' };
  },
  decode(_subject, data) {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data), (_k, v: unknown) => {
      if (v && typeof v === 'object' && '$bigint' in v) return BigInt((v as { $bigint: string }).$bigint);
      if (v && typeof v === 'object' && '$bytes' in v) return new Uint8Array(Buffer.from((v as { $bytes: string }).$bytes, 'base64'));
      return v;
    }) as unknown;
  },
};

export interface LogEntry {
  level: 'info' | 'warn' | 'error' | 'debug';
  msg: string | undefined;
  obj: object;
}

/** A logger that keeps what was logged, for asserting on it (and for reading it when a test fails). */
export function memoryLog(): NatsLog & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (obj: object, msg?: string) => void entries.push({ level, msg, obj });
  return { entries, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** Polls until fn returns something truthy (or stops throwing); generous by default for a loaded box. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function connectTest(url: string, log: NatsLog = memoryLog()): Promise<NatsConnection> {
  return connectNats({ servers: url, name: 'platform-test', log });
}

export const deadStream: StreamDefinition = {
  name: 'DEAD',
  subjects: ['dead.>'],
  retention: 'limits',
  maxAgeMs: 30 * 24 * 3600_000,
  duplicateWindowMs: 10 * 60_000,
  storage: 'file',
  discard: 'old',
};

export function testStream(name: string, subjects: string[]): StreamDefinition {
  return { name, subjects, retention: 'limits', maxAgeMs: 3600_000, duplicateWindowMs: 60_000, storage: 'file', discard: 'old' };
}
