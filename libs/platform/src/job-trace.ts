import { createHash } from 'node:crypto';
import { context as otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Link } from '@opentelemetry/api';

/**
 * One trace per GitHub job. GitHub sends three webhooks for a job (queued, in_progress, completed),
 * each its own HTTP request, and runners are created from a demand level rather than for one job,
 * so no single request can carry the trace from start to end. Instead every service that knows a
 * job's id derives the same trace id from it: the trace id is a hash of the job id, and the parent
 * is a virtual root span (its id also a hash) that nobody emits. Spans of the gateway, scheduler,
 * pool-manager and executor for one job therefore land in one trace wherever they start, and
 * `traceparent` in NATS headers carries it between them as usual.
 *
 * The hash input is versioned: changing it splits traces of jobs in flight, nothing worse.
 */
export function jobTraceContext(jobId: bigint | number | string): Context {
  const id = String(jobId);
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: digest(`runnerhub.v1.job-trace:${id}`, 32),
    spanId: digest(`runnerhub.v1.job-span:${id}`, 16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** The trace id jobTraceContext(jobId) uses, for tests and for finding a job's trace in a backend. */
export function jobTraceId(jobId: bigint | number | string): string {
  return digest(`runnerhub.v1.job-trace:${String(jobId)}`, 32);
}

/** True when `jobId` names a job (GitHub's ids are positive; 0 means "none" in our messages). */
export function isJobId(jobId: bigint | number | string | undefined | null): jobId is bigint | number | string {
  if (jobId === undefined || jobId === null) return false;
  const s = String(jobId);
  return /^[1-9][0-9]*$/.test(s);
}

function digest(input: string, hexChars: number): string {
  const hex = createHash('sha256').update(input).digest('hex').slice(0, hexChars);
  // An all-zero id is invalid in W3C trace context; a sha256 prefix of zeros is astronomically rare.
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

interface JobRefLike {
  jobId?: unknown;
  jobName?: unknown;
  workflowName?: unknown;
  runId?: unknown;
}
interface RunnerRefLike {
  runnerId?: unknown;
  runnerName?: unknown;
  pool?: unknown;
  host?: unknown;
}

/**
 * Span attributes naming the job, pool and runner a RunnerHub message is about, read from the
 * field names every message in proto/runnerhub/v1 uses (`job` JobRef, `runner` RunnerRef, `pool`,
 * `runnerName`, and the flat fields of WorkflowJobEvent). The platform does not depend on the
 * contracts, so this reads the shape, not the type; a message without those fields gets none.
 * Names follow the OpenTelemetry CI/CD registry where it has one (a GitHub job is a pipeline task
 * run, a runner is a worker).
 */
export function messageSpanAttributes(message: unknown): Attributes {
  if (!message || typeof message !== 'object') return {};
  const m = message as JobRefLike & RunnerRefLike & { job?: JobRefLike; runner?: RunnerRefLike; forJobId?: unknown };
  const out: Attributes = {};
  const job = m.job && typeof m.job === 'object' ? m.job : m;
  const put = (key: string, value: unknown) => {
    if (typeof value === 'string' && value !== '') out[key] = value;
    else if (typeof value === 'bigint' && value !== 0n) out[key] = value.toString();
    else if (typeof value === 'number' && value !== 0) out[key] = value;
  };
  put('cicd.pipeline.task.run.id', job.jobId ?? m.forJobId);
  put('cicd.pipeline.task.name', job.jobName);
  put('cicd.pipeline.name', job.workflowName);
  put('cicd.pipeline.run.id', job.runId);
  const runner = m.runner && typeof m.runner === 'object' ? m.runner : undefined;
  put('runnerhub.pool', typeof m.pool === 'string' && m.pool ? m.pool : runner?.pool);
  put('cicd.worker.name', runner?.runnerName ?? m.runnerName);
  put('cicd.worker.id', runner?.runnerId);
  put('runnerhub.host', runner?.host);
  return out;
}

/**
 * Runs `work` inside a span `name` in the job's trace (when `jobId` names a job), linked to the
 * span that was active (e.g. the consumer span of a command sent under another trace), so what
 * `work` publishes continues the job's trace. Without a job id it runs in a span of the active trace.
 */
export async function inJobTrace<T>(name: string, jobId: bigint | number | string | undefined, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  const active = otelContext.active();
  const activeSpan = trace.getSpanContext(active);
  const parent = isJobId(jobId) ? jobTraceContext(jobId) : active;
  const links: Link[] = activeSpan && trace.getSpanContext(parent)?.traceId !== activeSpan.traceId ? [{ context: activeSpan }] : [];
  const span = trace.getTracer('@runnerhub/platform/jobs').startSpan(name, { kind: SpanKind.INTERNAL, attributes, links }, parent);
  try {
    return await otelContext.with(trace.setSpan(parent, span), work);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
