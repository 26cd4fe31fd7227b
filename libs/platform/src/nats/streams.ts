import { nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';

/** A stream as the code wants it; the shape (and every stream's persisted name) lives in @runnerhub/contracts. */
export type { StreamDefinition } from '@runnerhub/contracts';
import type { StreamDefinition } from '@runnerhub/contracts';

export type StreamAction = 'created' | 'updated' | 'unchanged';

const RETENTION = { limits: RetentionPolicy.Limits, workqueue: RetentionPolicy.Workqueue, interest: RetentionPolicy.Interest } as const;
const STORAGE = { file: StorageType.File, memory: StorageType.Memory } as const;
const DISCARD = { old: DiscardPolicy.Old, new: DiscardPolicy.New } as const;

/** JetStream's "stream name already in use" (another process created it with other settings first). */
const STREAM_NAME_EXIST = 10058;

/**
 * Creates missing streams and updates changed ones; running it again changes nothing. Two processes
 * may run it at once: a create that loses the race re-reads the stream and updates it if needed.
 * Settings the server cannot change in place (storage, retention on older servers) fail with the
 * stream's name and what differs, so the operator can decide about the existing messages.
 */
export async function ensureStreams(nc: NatsConnection, defs: readonly StreamDefinition[]): Promise<Record<string, StreamAction>> {
  const jsm = await jetstreamManager(nc);
  const out: Record<string, StreamAction> = {};
  for (const def of defs) out[def.name] = await ensureStream(jsm, def);
  return out;
}

async function ensureStream(jsm: JetStreamManager, def: StreamDefinition): Promise<StreamAction> {
  const want = toConfig(def);
  const existing = await infoOrNull(jsm, def.name);
  if (!existing) {
    try {
      await jsm.streams.add(want);
      return 'created';
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_EXIST)) throw explain(def, 'create', err);
    }
  }
  const current = existing ?? (await jsm.streams.info(def.name));
  const changed = differences(current, want);
  if (changed.length === 0) return 'unchanged';
  try {
    await jsm.streams.update(def.name, want);
  } catch (err) {
    throw explain(def, `update (${changed.join(', ')})`, err);
  }
  return 'updated';
}

type WantedConfig = Partial<StreamConfig> & { name: string; subjects: string[] };

function toConfig(def: StreamDefinition): WantedConfig {
  if (def.duplicateWindowMs > def.maxAgeMs) {
    throw new Error(`stream ${def.name}: duplicateWindowMs (${def.duplicateWindowMs}) must not exceed maxAgeMs (${def.maxAgeMs})`);
  }
  return {
    name: def.name,
    subjects: [...def.subjects],
    retention: RETENTION[def.retention],
    storage: STORAGE[def.storage],
    discard: DISCARD[def.discard],
    max_age: nanos(def.maxAgeMs),
    duplicate_window: nanos(def.duplicateWindowMs),
    max_msgs_per_subject: def.maxMsgsPerSubject ?? -1,
    ...(def.description !== undefined ? { description: def.description } : {}),
  };
}

/** Names of the settings the server holds differently from the definition. */
function differences(info: StreamInfo, want: WantedConfig): string[] {
  const have = info.config;
  const out: string[] = [];
  const sameSet = (a: readonly string[] = [], b: readonly string[] = []) => a.length === b.length && a.every((x) => b.includes(x));
  if (!sameSet(have.subjects, want.subjects)) out.push('subjects');
  if (have.retention !== want.retention) out.push('retention');
  if (have.storage !== want.storage) out.push('storage');
  if (have.discard !== want.discard) out.push('discard');
  if (have.max_age !== want.max_age) out.push('max_age');
  if (have.duplicate_window !== want.duplicate_window) out.push('duplicate_window');
  if ((have.max_msgs_per_subject ?? -1) !== want.max_msgs_per_subject) out.push('max_msgs_per_subject');
  if (want.description !== undefined && have.description !== want.description) out.push('description');
  return out;
}

async function infoOrNull(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
    throw err;
  }
}

function explain(def: StreamDefinition, what: string, err: unknown): Error {
  const detail = err instanceof Error ? err.message : String(err);
  return new Error(`cannot ${what} stream ${def.name}: ${detail}`, { cause: err });
}
