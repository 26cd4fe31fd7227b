import { connect } from 'node:net';
import fc from 'fast-check';

/**
 * Request targets for tests that try to reach a route by another spelling of its path: what a
 * prefix check on the raw URL sees differently from the router that picks the route.
 */

/** A concrete path of a route template: `/api/pools/:name` and `/api/pools/{name}` → `/api/pools/x`. */
export function concretePath(template: string, value = 'x'): string {
  return template.replace(/:[A-Za-z0-9_]+|\{[^}]+\}/g, value);
}

const hex = (c: string, lower: boolean) => {
  const h = c.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${lower ? h : h.toUpperCase()}`;
};

/** What happens to one character of the path. */
const charChange = fc.oneof(
  { weight: 6, arbitrary: fc.constant('keep' as const) },
  { weight: 1, arbitrary: fc.constantFrom('encode' as const, 'encode-lower' as const, 'swap-case' as const) },
);

/** A segment spliced in before segment `at`: empty (a double slash), a dot segment, or `x/..`. */
const insertedSegment = fc.record({ at: fc.nat(), segment: fc.constantFrom('', '.', '..', 'x/..', '%2e', '.%2E', '%2F') });

const suffix = fc.constantFrom('', '/', '//', '?', '?a=1', '?a=1&b=%2F', '#f', '/?a', ';', ';a=b', ';jsessionid=1?x=y', '%00', '%20', '.');

const scheme = fc.constantFrom('http', 'HTTP', 'Http', 'https');

/**
 * Spellings of `path` (an origin-form path such as `/api/pools/x`): percent-encoding of any
 * character (upper- or lower-case hex, `/` too), mixed case, double slashes, dot segments (plain and
 * encoded), `;` parameters on a segment, trailing slashes, query strings and fragments, and, when
 * `authority` is given, the absolute form (`GET http://host:port/api/...`) with any scheme case.
 * The unchanged path is among them (fast-check shrinks toward it).
 */
export function requestTargetSpellings(path: string, authority?: string): fc.Arbitrary<string> {
  const segments = path.split('/').slice(1);
  return fc
    .record({
      inserts: fc.array(insertedSegment, { maxLength: 3 }),
      params: fc.array(fc.record({ at: fc.nat(), param: fc.constantFrom(';', ';a=b', ';%3B') }), { maxLength: 2 }),
      chars: fc.array(charChange, { minLength: path.length + 64, maxLength: path.length + 64 }),
      end: suffix,
      absolute: authority ? fc.option(fc.record({ scheme, host: fc.constantFrom(authority, 'LOCALHOST', 'example.com:80', '[::1]:8080') }), { freq: 3 }) : fc.constant(null),
    })
    .map(({ inserts, params, chars, end, absolute }) => {
      const parts = [...segments];
      for (const { at, param } of params) {
        const i = at % parts.length;
        parts[i] = `${parts[i]}${param}`;
      }
      for (const { at, segment } of inserts) parts.splice(at % (parts.length + 1), 0, segment);
      // Well-formed only: the leading '/' stays (else it is no origin-form target) and the two hex
      // digits of an escape stay as they are (a broken escape is a 400 before any routing).
      let spelled = '/';
      const plain = `/${parts.join('/')}`;
      let escape = 0;
      for (let i = 1; i < plain.length; i++) {
        const c = plain[i]!;
        const change = escape > 0 ? 'keep' : chars[i % chars.length]!;
        escape = c === '%' ? 2 : Math.max(0, escape - 1);
        if (change === 'encode' || change === 'encode-lower') spelled += hex(c, change === 'encode-lower');
        else if (change === 'swap-case') spelled += c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
        else spelled += c;
      }
      const target = `${spelled}${end}`;
      return absolute ? `${absolute.scheme}://${absolute.host}${target}` : target;
    });
}

/**
 * The answers a request without a token may get on a route that needs one: 401, or 404 when the
 * spelling is another path. A fragment is no part of a request target (RFC 9112 §3.2): a target
 * with one may also be refused outright with 400.
 */
export function answersWithoutToken(target: string): number[] {
  return target.includes('#') ? [400, 401, 404] : [401, 404];
}

export interface RawAnswer {
  status: number;
  /** The status line and headers as received. */
  head: string;
}

/**
 * One HTTP/1.1 request over a fresh socket, the request target sent exactly as given (fetch and
 * inject normalise it: the absolute form and some encodings only travel this way).
 */
export function rawHttpRequest(port: number, method: string, target: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer to ${method} ${target} within ${timeoutMs} ms`)), timeoutMs);
    const lines = [`${method} ${target} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close'];
    if (method !== 'GET' && method !== 'HEAD') lines.push('content-length: 0');
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    socket.on('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.split('\r\n\r\n')[0] ?? '';
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head });
    });
  });
}
