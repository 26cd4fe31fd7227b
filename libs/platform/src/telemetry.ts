import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { context, metrics, propagation, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { RUNNERHUB_VERSION } from './version.js';

/**
 * One metrics path: the OpenTelemetry metrics API, read by a Prometheus exporter that serves our own
 * /metrics route (and pushed over OTLP too when a collector is configured). Traces use the same SDK
 * components that @opentelemetry/sdk-node wires together; sdk-node itself loads every exporter it
 * knows and cost about 20 MB of resident memory per process here, which six services on a NAS
 * cannot spare (docs/architecture.md "Telemetry").
 *
 * Without an OTLP endpoint nobody receives spans, so no tracer provider is registered: the API then
 * hands out non-recording spans that carry their parent's trace and span id (a job's derived trace
 * context included) and cost next to nothing. Context propagation stays on either way (the
 * AsyncLocalStorage context manager and the W3C trace-context and baggage propagators), so
 * `traceparent` still flows through NATS headers and a service that does export keeps each job's trace.
 */

export interface Telemetry {
  meter: Meter;
  tracer: Tracer;
  /** Serves the Prometheus text format (wired to GET /metrics by the HTTP chassis). */
  serveMetrics(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

export interface TelemetrySettings {
  serviceName: string;
  serviceVersion?: string;
  otlpEndpoint?: string;
  /**
   * Default true: register OpenTelemetry's process-wide parts (context manager, propagators, tracer
   * and meter provider). false for a service that shares its process (the all-in-one registers them
   * once with registerTelemetryGlobals): its metrics stay its own, its spans go to the process's provider.
   */
  globals?: boolean;
}

/** How often metrics are pushed to an OTLP collector, when one is configured. */
const OTLP_METRIC_INTERVAL_MS = 15_000;

export function startTelemetry(s: TelemetrySettings): Telemetry {
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: s.serviceName,
    [ATTR_SERVICE_VERSION]: s.serviceVersion ?? RUNNERHUB_VERSION,
    'service.instance.id': `${hostname()}:${process.pid}`,
  });

  const tracerProvider = s.globals === false ? undefined : registerGlobals(resource, s.otlpEndpoint);

  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
  const readers: IMetricReader[] = [prometheus];
  if (s.otlpEndpoint) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${trimSlash(s.otlpEndpoint)}/v1/metrics` }),
        exportIntervalMillis: OTLP_METRIC_INTERVAL_MS,
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  if (s.globals !== false) metrics.setGlobalMeterProvider(meterProvider);
  const meter = meterProvider.getMeter(s.serviceName);
  const stopRuntime = observeRuntime(meter);
  // The Prometheus convention for "which build runs where": always 1, the facts in the labels.
  meter
    .createObservableGauge('runnerhub_build_info', { description: 'Always 1: the RunnerHub version, service and Node.js version of this process.' })
    .addCallback((r) => r.observe(1, { version: s.serviceVersion ?? RUNNERHUB_VERSION, service: s.serviceName, nodejs_version: process.versions.node }));

  return {
    meter,
    tracer: trace.getTracer(s.serviceName),
    serveMetrics: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    async shutdown() {
      stopRuntime();
      await Promise.allSettled([tracerProvider?.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/**
 * The process-wide half of telemetry, for a process that runs several services: the context
 * manager, the propagators and (with an OTLP endpoint) the tracer provider every span goes to.
 */
export function registerTelemetryGlobals(s: { serviceName: string; otlpEndpoint?: string | undefined }): { shutdown(): Promise<void> } {
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: s.serviceName,
    [ATTR_SERVICE_VERSION]: RUNNERHUB_VERSION,
    'service.instance.id': `${hostname()}:${process.pid}`,
  });
  const tracerProvider = registerGlobals(resource, s.otlpEndpoint);
  return { shutdown: async () => void (await tracerProvider?.shutdown()) };
}

function registerGlobals(resource: ReturnType<typeof resourceFromAttributes>, otlpEndpoint: string | undefined): NodeTracerProvider | undefined {
  if (otlpEndpoint) {
    const spanProcessors: SpanProcessor[] = [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${trimSlash(otlpEndpoint)}/v1/traces` }))];
    const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
    // Registers the AsyncLocalStorage context manager and the W3C trace-context propagator globally.
    tracerProvider.register();
    return tracerProvider;
  }
  // The same context manager and propagators NodeTracerProvider.register() installs, without a
  // tracer provider that would record spans for nobody.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  return undefined;
}

function trimSlash(url: string) {
  return url.replace(/\/+$/, '');
}

/** Process gauges in Prometheus' conventional names, so node dashboards work unchanged. */
function observeRuntime(meter: Meter): () => void {
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  meter
    .createObservableGauge('process_resident_memory_bytes', { description: 'Resident memory size in bytes.', unit: 'By' })
    .addCallback((r) => r.observe(process.memoryUsage.rss()));
  meter
    .createObservableGauge('nodejs_heap_used_bytes', { description: 'V8 heap in use, in bytes.', unit: 'By' })
    .addCallback((r) => r.observe(process.memoryUsage().heapUsed));
  meter
    .createObservableCounter('process_cpu_seconds', { description: 'User and system CPU time spent, in seconds.', unit: 's' })
    .addCallback((r) => {
      const u = process.cpuUsage();
      r.observe((u.user + u.system) / 1e6);
    });
  // Both read from the same samples, reset once per collection (after both callbacks ran).
  const p99 = meter.createObservableGauge('nodejs_eventloop_delay_p99_seconds', { description: 'Event loop delay, 99th percentile since the last scrape.', unit: 's' });
  const max = meter.createObservableGauge('nodejs_eventloop_delay_max_seconds', { description: 'Longest event loop delay since the last scrape: one stall a p99 hides.', unit: 's' });
  meter.addBatchObservableCallback(
    (r) => {
      r.observe(p99, loopDelay.percentile(99) / 1e9);
      r.observe(max, loopDelay.max / 1e9);
      loopDelay.reset();
    },
    [p99, max],
  );
  return () => loopDelay.disable();
}
