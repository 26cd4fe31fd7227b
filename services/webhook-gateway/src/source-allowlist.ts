import { BlockList, isIP } from 'node:net';

/**
 * Optional source check for webhook requests: only GitHub's `hooks` ranges (GET /meta) may deliver.
 * Behind a reverse proxy on the NAS, the peer is the proxy; when it is a trusted proxy, the client is
 * the rightmost X-Forwarded-For address that is not itself a trusted proxy (each proxy appends the
 * address it saw, so entries to the left of a trusted one can be forged by the client).
 */

export interface SourceAllowlist {
  /** undefined: allowed; otherwise why not. */
  check(peer: string | undefined, forwardedFor: string | string[] | undefined): string | undefined;
  /** Replaces the allowed ranges (from GitHub's /meta). */
  setRanges(cidrs: readonly string[]): void;
  ready(): boolean;
}

function normalize(address: string): string {
  const trimmed = address.trim();
  // IPv4 clients on a dual-stack socket appear as ::ffff:a.b.c.d.
  return trimmed.startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
}

export function toBlockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/');
    const family = isIP(address ?? '');
    if (!family) throw new Error(`not an IP range: ${cidr}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    list.addSubnet(address!, bits === undefined ? (family === 4 ? 32 : 128) : Number(bits), type);
  }
  return list;
}

function contains(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The client address: the peer, or for a trusted proxy the rightmost untrusted X-Forwarded-For hop. */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: BlockList): string | undefined {
  if (!peer) return undefined;
  let client = normalize(peer);
  if (!contains(trusted, client)) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '')).split(',').map(normalize).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    client = hops[i]!;
    if (!contains(trusted, client)) return client;
  }
  return client;
}

export function createSourceAllowlist(trustedProxies: readonly string[]): SourceAllowlist {
  const trusted = toBlockList(trustedProxies);
  let allowed: BlockList | undefined;
  return {
    check(peer, forwardedFor) {
      if (!allowed) return "GitHub's webhook address ranges are not known yet (GET /meta has not answered)";
      const client = clientAddress(peer, forwardedFor, trusted);
      if (!client || isIP(client) === 0) return 'the client address is unknown';
      return contains(allowed, client) ? undefined : `source ${client} is not in GitHub's hooks ranges`;
    },
    setRanges(cidrs) {
      allowed = toBlockList(cidrs);
    },
    ready: () => allowed !== undefined,
  };
}
