import {
  type Attributes,
  type Context,
  type Counter,
  context,
  type Histogram,
  metrics,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { paddockVersion } from '@paddock/core';
import type { Logger } from 'pino';

/**
 * Traces and metrics through the OpenTelemetry API. Off unless the standard
 * OTEL_* variables ask for OTLP export; then the SDK is loaded (only then) and
 * exports over OTLP/HTTP. Off, every call below is the API's no-op.
 */
export interface Telemetry {
  readonly enabled: boolean;
  tracer: Tracer;
  /** Starts a span, as a child of `parent` when given. */
  startSpan(name: string, attributes?: Attributes, parent?: Span): Span;
  policyDecisions: Counter;
  execDuration: Histogram;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/** Telemetry that only calls the OpenTelemetry API's no-ops. */
export function offTelemetry(): Telemetry {
  return instruments(false, async () => {});
}

export function telemetryWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  return !!endpoint || env.OTEL_TRACES_EXPORTER === 'otlp' || env.OTEL_METRICS_EXPORTER === 'otlp';
}

export async function startTelemetry(env: NodeJS.ProcessEnv, logger: Logger, observeSandboxes: () => Record<string, number>): Promise<Telemetry> {
  if (!telemetryWanted(env)) return offTelemetry();
  const [
    { BasicTracerProvider, BatchSpanProcessor },
    { MeterProvider, PeriodicExportingMetricReader },
    { OTLPTraceExporter },
    { OTLPMetricExporter },
    { resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // The exporters read OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout) themselves.
  const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'paddockd', 'service.version': paddockVersion });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 5000) })],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000) }),
    ],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  const meter = metrics.getMeter('paddockd', paddockVersion);
  meter.createObservableGauge('paddock.sandboxes', { description: 'sandboxes by state' }).addCallback((result) => {
    for (const [state, count] of Object.entries(observeSandboxes())) result.observe(count, { state });
  });
  logger.info('OpenTelemetry export on');
  return instruments(true, async () => {
    await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
  });
}

function instruments(enabled: boolean, shutdown: () => Promise<void>): Telemetry {
  const tracer = trace.getTracer('paddockd', paddockVersion);
  const meter = metrics.getMeter('paddockd', paddockVersion);
  return {
    enabled,
    tracer,
    startSpan(name, attributes, parent) {
      const ctx: Context = parent ? trace.setSpan(context.active(), parent) : context.active();
      return tracer.startSpan(name, { attributes }, ctx);
    },
    policyDecisions: meter.createCounter('paddock.policy.decisions', { description: 'authorize() decisions by action and effect' }),
    execDuration: meter.createHistogram('paddock.exec.duration', { description: 'commands run through the API, start to exit', unit: 'ms' }),
    shutdown,
  };
}

/** Ends a span with the outcome of what it covered. */
export function endSpan(span: Span, error?: unknown): void {
  if (error) {
    const message = typeof error === 'object' && error !== null && 'message' in error ? String((error as { message: unknown }).message) : String(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    if (typeof error === 'object' && error !== null && 'code' in error) span.setAttribute('paddock.error.code', String((error as { code: unknown }).code));
  }
  span.end();
}
