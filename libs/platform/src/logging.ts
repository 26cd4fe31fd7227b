import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, whatever object they appear in. */
const ALWAYS_REDACTED_KEYS = ['authorization', 'password', 'token', 'secret', 'jitConfig', 'jit_config', 'encodedJitConfig', 'encoded_jit_config', 'privateKey', 'private_key'];

export interface LoggerSettings {
  service: string;
  level: string;
  /** Secret names (e.g. GITHUB_WEBHOOK_SECRET): redacted wherever they appear as keys. */
  secretNames?: readonly string[];
  /** Secret values: scrubbed from every message and string field as a last line of defence. */
  secretValues?: () => readonly string[];
  /** Where to write; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

/** JSON logs (pretty only on a TTY), with secret names redacted and secret values scrubbed. */
export function createLogger(s: LoggerSettings): Logger {
  const keys = [...ALWAYS_REDACTED_KEYS, ...(s.secretNames ?? [])];
  const paths = keys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  const scrub = makeScrubber(s.secretValues ?? (() => []));
  const options: LoggerOptions = {
    level: s.level,
    base: { service: s.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }), log: (obj) => scrub(obj) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => scrub(a)) as Parameters<typeof method>);
      },
    },
  };
  if (s.destination) return pino(options, s.destination);
  if (process.stdout.isTTY) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  return pino(options);
}

function makeScrubber(values: () => readonly string[]) {
  const scrub = (v: unknown, depth = 0): unknown => {
    const secrets = values();
    if (secrets.length === 0) return v;
    if (typeof v === 'string') {
      let out = v;
      // Values shorter than 6 characters would censor ordinary words, so they are left to key-based redaction.
      for (const s of secrets) if (s.length >= 6 && out.includes(s)) out = out.split(s).join('[redacted]');
      return out;
    }
    if (depth > 4 || v === null || typeof v !== 'object') return v;
    if (v instanceof Error) return { type: v.name, message: scrub(v.message, depth + 1), stack: scrub(v.stack, depth + 1) };
    if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = scrub(x, depth + 1);
    return out;
  };
  return scrub;
}
