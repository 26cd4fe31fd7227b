import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { accessSync, constants } from 'node:fs';
import { ConfigError, type ConfigProblem } from '../config.js';

/** The part of a pino logger this layer writes to; a pino `Logger` fits as it is. */
export interface NatsLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface NatsConnectSettings {
  /** One URL, a comma-separated list, or an array (`NATS_URL`). */
  servers: string | string[];
  /** Shown by the server's monitoring (`/connz`): use the service name and instance. */
  name: string;
  log: NatsLog;
  user?: string;
  pass?: string;
  token?: string;
  /** How long the first connection attempt may take before `connectNats` rejects. */
  timeoutMs?: number;
  /** TLS: the CA to verify the server with, and a client certificate (both files or neither). */
  tls?: NatsTlsFiles;
}

export interface NatsTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * The TLS settings of NATS_TLS_*, checked before the first connection: a certificate without its key
 * (or the other way round) or a file that cannot be read is a configuration error naming the
 * variable, not a connection that keeps failing. Undefined when no TLS variable is set.
 */
export function natsTlsSettings(tls: NatsTlsFiles | undefined): NatsTlsFiles | undefined {
  if (!tls || (!tls.caFile && !tls.certFile && !tls.keyFile)) return undefined;
  const problems: ConfigProblem[] = [];
  if (!!tls.certFile !== !!tls.keyFile) problems.push({ variable: tls.certFile ? 'NATS_TLS_KEY_FILE' : 'NATS_TLS_CERT_FILE', problem: 'is required with ' + (tls.certFile ? 'NATS_TLS_CERT_FILE' : 'NATS_TLS_KEY_FILE') });
  for (const [variable, file] of [['NATS_TLS_CA_FILE', tls.caFile], ['NATS_TLS_CERT_FILE', tls.certFile], ['NATS_TLS_KEY_FILE', tls.keyFile]] as const) {
    if (!file) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      problems.push({ variable, problem: `cannot read ${JSON.stringify(file)}` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...(tls.caFile ? { caFile: tls.caFile } : {}), ...(tls.certFile ? { certFile: tls.certFile, keyFile: tls.keyFile } : {}) };
}

/** Wait between reconnect attempts to the same server, plus up to RECONNECT_JITTER_MS of jitter so
 * six services (and their replicas) do not hit a restarted server in the same millisecond. */
const RECONNECT_WAIT_MS = 1_000;
const RECONNECT_JITTER_MS = 1_000;
/** A server that vanished without closing the socket is noticed after PING_INTERVAL_MS * MAX_PINGS_OUT. */
const PING_INTERVAL_MS = 20_000;
const MAX_PINGS_OUT = 3;
/** The readiness probe must answer well within a kubelet/compose healthcheck timeout. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * Connects and keeps reconnecting forever: a service never gives up on NATS; readiness reports it as
 * down instead. The first connection must succeed (the caller's startup wait retries it) so that a
 * wrong URL or credentials fail loudly at boot.
 */
export async function connectNats(s: NatsConnectSettings): Promise<NatsConnection> {
  const servers = (Array.isArray(s.servers) ? s.servers : s.servers.split(','))
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
  const nc = await connect({
    servers,
    name: s.name,
    ...(s.user !== undefined ? { user: s.user } : {}),
    ...(s.pass !== undefined ? { pass: s.pass } : {}),
    ...(s.token !== undefined ? { token: s.token } : {}),
    ...(s.tls ? { tls: s.tls } : {}),
    timeout: s.timeoutMs ?? 10_000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RECONNECT_WAIT_MS,
    reconnectJitter: RECONNECT_JITTER_MS,
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: MAX_PINGS_OUT,
  });
  s.log.info({ server: nc.getServer(), name: s.name }, 'nats connected');
  void logStatus(nc, s.log);
  return nc;
}

/** Logs each change of connection state once per episode, not once per reconnect attempt. */
async function logStatus(nc: NatsConnection, log: NatsLog): Promise<void> {
  let downSince: number | undefined;
  try {
    for await (const st of nc.status()) {
      switch (st.type) {
        case 'disconnect':
          if (downSince === undefined) {
            downSince = Date.now();
            log.warn({ server: st.server }, 'nats disconnected; reconnecting');
          }
          break;
        case 'reconnect':
          log.info({ server: st.server, downMs: downSince === undefined ? 0 : Date.now() - downSince }, 'nats reconnected');
          downSince = undefined;
          break;
        case 'ldm':
          log.warn({ server: st.server }, 'nats server entering lame-duck mode; will move to another server');
          break;
        case 'staleConnection':
          log.warn({}, 'nats connection stale; reconnecting');
          break;
        case 'error':
          log.error({ err: st.error }, 'nats async error');
          break;
        case 'slowConsumer':
          log.warn({ subject: st.sub.getSubject(), pending: st.pending }, 'nats slow consumer');
          break;
        case 'close':
          log.info({}, 'nats connection closed');
          break;
        default:
          ignore(st);
      }
    }
  } catch (err) {
    log.error({ err }, 'nats status watch ended');
  }
}

/** Statuses that need no log line: reconnect attempts (one line per episode is enough), pings,
 * cluster topology updates and user-forced reconnects. */
function ignore(_st: Status): void {}

/**
 * Readiness probe: resolves when the connection is up and the JetStream API answers within the
 * timeout, rejects otherwise (closed, reconnecting, JetStream disabled or unresponsive).
 */
export async function checkNats(nc: NatsConnection, timeoutMs = CHECK_TIMEOUT_MS): Promise<void> {
  if (nc.isClosed()) throw new Error('nats connection is closed');
  const jsm = await jetstreamManager(nc, { timeout: timeoutMs, checkAPI: false });
  await jsm.getAccountInfo();
}
