import { timestampFromDate, type Timestamp } from '@runnerhub/contracts';

/**
 * What the gateway accepts in each field it translates. Two rules decide every bound: a value GitHub
 * could send, and one every service downstream can store (the scheduler's Postgres columns above
 * all). What fails is refused at the edge with 400 naming the field, before anything is published:
 * accepting it would only move the failure to a consumer that retries it into the dead letters.
 *
 * - Identifiers (ids, logins, repository names, labels, URLs, the action) must be what GitHub sends;
 *   anything else is refused.
 * - Free text people write (workflow, job, branch and runner names) is kept but made storable: NUL
 *   (which Postgres text cannot hold) and unpaired surrogates (no UTF-8 at all) become U+FFFD, and
 *   past MAX_TEXT characters it is cut. The raw payload travels unchanged beside it.
 *
 * docs/architecture.md (webhook-gateway) has the table of fields and bounds.
 */

export class FieldError extends Error {
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`${field} ${rule}`);
    this.name = 'FieldError';
  }
}

/** A short, printable picture of the refused value for the answer (a label can be 900 KB). */
function preview(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function refuse(field: string, rule: string, v: unknown): never {
  throw new FieldError(field, `${rule} (got ${preview(v)})`);
}

/**
 * GitHub's ids are int64 (today near 2^35). JSON numbers past 2^53 - 1 come out of any JavaScript
 * parser rounded, i.e. as another id, so they are refused rather than misrouted.
 */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

/** An id: absent or null is 0 (GitHub sends null for "none", e.g. runner_id while queued). */
export function id(v: unknown, field: string, opts: { required?: boolean } = {}): bigint {
  if (v === undefined || v === null) return opts.required ? refuse(field, 'is required', v) : 0n;
  const min = opts.required ? 1 : 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) return refuse(field, `must be an integer from ${min} to 2^53-1`, v);
  return BigInt(v);
}

/** run_attempt counts from 1; the scheduler keeps it in a Postgres integer, tighter than the proto's uint32. */
export const MAX_RUN_ATTEMPT = 2_147_483_647;

export function runAttempt(v: unknown, field: string): number {
  if (v === undefined || v === null) return 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_RUN_ATTEMPT) return refuse(field, `must be an integer from 1 to ${MAX_RUN_ATTEMPT}`, v);
  return v;
}

/** C0 and C1 controls (NUL among them): no identifier of GitHub's has one. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A surrogate without its partner: no Unicode character, not encodable as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Bounds of GitHub's identifiers, with room: logins are at most 39 characters, repository names 100. */
export const MAX_LOGIN = 100;
export const MAX_REPOSITORY_NAME = 100;
export const MAX_FULL_NAME = MAX_LOGIN + 1 + MAX_REPOSITORY_NAME;
/** A commit id: 40 hex digits for SHA-1, 64 for SHA-256 repositories. */
export const MAX_SHA = 64;
export const MAX_URL = 2048;
/** Enumerations GitHub spells as words (status, conclusion, account type, trigger event). */
export const MAX_WORD = 64;

/** An identifier or a URL: a string within `max` characters, no controls, well-formed. Absent or null is ''. */
export function identifier(v: unknown, field: string, max: number): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') return refuse(field, 'must be a string', v);
  if (v.length > max) return refuse(field, `must be at most ${max} characters, not ${v.length}`, v);
  if (CONTROL.test(v) || LONE_SURROGATE.test(v)) return refuse(field, 'may not contain control characters or unpaired surrogates', v);
  return v;
}

/** Free text is cut past this many characters (GitHub shows far less of a name). */
export const MAX_TEXT = 1000;

/** Free text: kept, made storable (NUL and unpaired surrogates → U+FFFD) and cut past MAX_TEXT. Absent or null is ''. */
export function text(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') return refuse(field, 'must be a string', v);
  // Cut first: a cut through a surrogate pair leaves a lone half, which the next step replaces.
  const cut = v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT - 1)}…` : v;
  return cut.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATES, '\ufffd');
}

/**
 * A job's runs-on labels, the one routing input: exact, so refused rather than changed. A runner
 * carries at most 100 custom labels besides its default ones (self-hosted, OS, architecture), so a
 * job with more could never run on any runner, ours or GitHub's.
 */
export const MAX_LABELS = 128;
export const MAX_LABEL = 256;

export function labels(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return refuse(field, 'must be a list of strings', v);
  if (v.length > MAX_LABELS) return refuse(field, `may hold at most ${MAX_LABELS} labels, not ${v.length}`, v.length);
  return v.map((label: unknown, i) => {
    const at = `${field}[${i}]`;
    if (label === '') return refuse(at, 'must not be empty', label);
    if (typeof label !== 'string') return refuse(at, 'must be a string', label);
    return identifier(label, at, MAX_LABEL);
  });
}

/** The last instant Postgres's timestamptz and every consumer handle without surprise. */
const LATEST_MS = Date.UTC(10_000, 0, 1);

/** An ISO 8601 date-time between 1970 and 9999; absent or null is unset. */
export function time(v: unknown, field: string): Timestamp | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'string' && v.length <= 40 ? Date.parse(v) : Number.NaN;
  if (!(ms >= 0 && ms < LATEST_MS)) return refuse(field, 'must be an ISO 8601 date-time between 1970 and 9999', v);
  return timestampFromDate(new Date(ms));
}

type Json = Record<string, unknown>;

/** A nested object; absent or null is undefined. */
export function object(v: unknown, field: string): Json | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return refuse(field, 'must be an object', v);
  return v as Json;
}

export function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return refuse(field, 'must be a list', v);
  return v;
}

/**
 * The action becomes the last token of the subject `gh.<event>.<action>`: one token (no '.', no
 * wildcard), and short: a subject past the server's control-line limit (4 KB) makes nats-server
 * close the connection, failing every publish in flight. GitHub's longest action has 24 characters.
 */
export const MAX_ACTION = 64;
const ACTION = /^[A-Za-z0-9_-]*$/;

export function action(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') return refuse('action', 'must be a string', v);
  if (v.length > MAX_ACTION) return refuse('action', `must be at most ${MAX_ACTION} characters, not ${v.length}`, v);
  if (!ACTION.test(v)) return refuse('action', 'must be one word of letters, digits, "_" and "-"', v);
  return v;
}
