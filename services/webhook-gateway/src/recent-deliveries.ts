/**
 * The GUIDs this gateway already handed to JetStream (or ignored), newest kept, oldest forgotten
 * first. It answers "seen before?" without a database round trip on the hot path. It is warmed at
 * start from the delivery log, so a restart does not forget; JetStream's 10-minute dedup window
 * covers what another replica handled meanwhile.
 */
export interface RecentDeliveries {
  has(guid: string): boolean;
  add(guid: string): void;
  size(): number;
}

export function createRecentDeliveries(capacity: number): RecentDeliveries {
  // A Map iterates in insertion order, so its first key is the oldest: an LRU without extra bookkeeping.
  const seen = new Map<string, true>();
  return {
    has: (guid) => seen.has(guid),
    add(guid) {
      seen.delete(guid);
      seen.set(guid, true);
      if (seen.size > capacity) seen.delete(seen.keys().next().value!);
    },
    size: () => seen.size,
  };
}
