import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags, type TextMapSetter } from '@opentelemetry/api';
import { jobTraceContext, jobTraceId } from './job-trace.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

const setter: TextMapSetter<Record<string, string>> = { set: (c, k, v) => void (c[k] = v) };

describe('telemetry', () => {
  const started: Telemetry[] = [];
  afterAll(async () => {
    for (const t of started) await t.shutdown();
  });

  it('records no spans without an OTLP endpoint, and still propagates the trace context', async () => {
    const telemetry = startTelemetry({ serviceName: 'telemetry-test' });
    started.push(telemetry);
    const parent = jobTraceContext(4711);
    const span = telemetry.tracer.startSpan('webhook workflow_job.queued', {}, parent);
    expect(span.isRecording()).toBe(false);
    // A non-recording span carries its parent's ids, so what is published under it stays in the job's trace.
    expect(span.spanContext()).toMatchObject({ traceId: jobTraceId(4711), traceFlags: TraceFlags.SAMPLED });
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), carrier, setter);
    expect(carrier.traceparent).toBe(`00-${jobTraceId(4711)}-${span.spanContext().spanId}-01`);
    // The context manager is on: an active context survives an await, as consumers rely on.
    const seen = await context.with(trace.setSpan(parent, span), async () => {
      await new Promise((r) => setTimeout(r, 1));
      return trace.getSpanContext(context.active())?.traceId;
    });
    expect(seen).toBe(jobTraceId(4711));
    expect(context.active()).toBe(ROOT_CONTEXT);
    // And a traceparent that arrives is extracted as before.
    const extracted = propagation.extract(ROOT_CONTEXT, { traceparent: carrier.traceparent! }, { get: (c: Record<string, string>, k) => c[k], keys: (c) => Object.keys(c) });
    expect(trace.getSpanContext(extracted)?.traceId).toBe(jobTraceId(4711));
  });

  it('records spans when an OTLP endpoint is configured', async () => {
    // A collector that takes everything, so the exporters' last push at shutdown does not retry.
    const collector = createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const telemetry = startTelemetry({ serviceName: 'telemetry-test-otlp', otlpEndpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}` });
    started.push({ ...telemetry, shutdown: () => telemetry.shutdown().finally(() => collector.close()) });
    const span = telemetry.tracer.startSpan('recorded', {}, jobTraceContext(4711));
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).toBe(jobTraceId(4711));
    expect(span.spanContext().spanId).not.toBe(trace.getSpanContext(jobTraceContext(4711))?.spanId);
    span.end();
  });
});
