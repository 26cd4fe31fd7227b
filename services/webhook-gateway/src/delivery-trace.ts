import { context as otelContext, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { isJobId, jobTraceContext, messageSpanAttributes } from '@runnerhub/platform';

const tracer = trace.getTracer('webhook-gateway');

export interface DeliverySpan {
  /** Publish under this, so `traceparent` carries the delivery's trace on to the consumers. */
  traceContext: Context;
  end(error?: string): void;
}

/**
 * A span per accepted delivery. A workflow_job delivery joins its job's trace (jobTraceContext: the
 * trace id is derived from the job id), so the queued, in_progress and completed deliveries and
 * everything the other services do for that job form one trace; other events start their own.
 */
export function startDeliverySpan(d: { event: string; action: string; delivery: string; message: unknown }): DeliverySpan {
  const jobId = d.event === 'workflow_job' ? (d.message as { jobId?: bigint }).jobId : undefined;
  const parent = isJobId(jobId) ? jobTraceContext(jobId) : otelContext.active();
  const span = tracer.startSpan(`webhook ${d.event}.${d.action || 'none'}`, { kind: SpanKind.SERVER }, parent);
  // Without a trace exporter the span is a non-recording one that only carries the ids: skip the attributes.
  if (span.isRecording()) span.setAttributes({ 'github.delivery': d.delivery, 'github.event': d.event, 'github.action': d.action, ...messageSpanAttributes(d.message) });
  return {
    traceContext: trace.setSpan(parent, span),
    end(error) {
      if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end();
    },
  };
}
