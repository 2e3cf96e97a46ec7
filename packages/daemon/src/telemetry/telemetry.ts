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
import { type Logger as OtelLogger, SeverityNumber } from '@opentelemetry/api-logs';
import { type AuditAnchor, paddockVersion } from '@paddock/core';
import type { Logger } from 'pino';

/**
 * Traces, metrics and audit anchors (as log records) through OpenTelemetry.
 * Off unless the standard OTEL_* variables ask for OTLP export; then the SDK is
 * loaded (only then) and exports over OTLP/HTTP. Off, every call below is a no-op.
 */
export interface Telemetry {
  readonly enabled: boolean;
  tracer: Tracer;
  /** Starts a span, as a child of `parent` when given. */
  startSpan(name: string, attributes?: Attributes, parent?: Span): Span;
  policyDecisions: Counter;
  execDuration: Histogram;
  /**
   * Sends an audit anchor off the box as a log record whose body is its line
   * in the anchor log, so a collector's copy can be given to `paddock audit verify --anchor`.
   */
  exportAuditAnchor(anchor: AuditAnchor): void;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/** Telemetry that only calls the OpenTelemetry API's no-ops. */
export function offTelemetry(): Telemetry {
  return instruments(false, async () => {});
}

const otlpEndpointVariables = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
] as const;

export function telemetryWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return (
    otlpEndpointVariables.some((name) => !!env[name]) ||
    env.OTEL_TRACES_EXPORTER === 'otlp' ||
    env.OTEL_METRICS_EXPORTER === 'otlp' ||
    env.OTEL_LOGS_EXPORTER === 'otlp'
  );
}

export async function startTelemetry(env: NodeJS.ProcessEnv, logger: Logger, observeSandboxes: () => Record<string, number>): Promise<Telemetry> {
  if (!telemetryWanted(env)) return offTelemetry();
  const [
    { BasicTracerProvider, BatchSpanProcessor },
    { MeterProvider, PeriodicExportingMetricReader },
    { OTLPTraceExporter },
    { OTLPMetricExporter },
    { resourceFromAttributes },
    { LoggerProvider, BatchLogRecordProcessor },
    { OTLPLogExporter },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-logs'),
    import('@opentelemetry/exporter-logs-otlp-http'),
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
  // Only audit anchors go out as logs: the daemon's own log lines stay with pino.
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter(), scheduledDelayMillis: Number(env.OTEL_BLRP_SCHEDULE_DELAY ?? 1000) })],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  const meter = metrics.getMeter('paddockd', paddockVersion);
  meter.createObservableGauge('paddock.sandboxes', { description: 'sandboxes by state' }).addCallback((result) => {
    for (const [state, count] of Object.entries(observeSandboxes())) result.observe(count, { state });
  });
  logger.info('OpenTelemetry export on');
  const auditLogger = loggerProvider.getLogger('paddockd.audit', paddockVersion);
  return instruments(
    true,
    async () => {
      await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush(), loggerProvider.forceFlush()]);
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
    },
    auditLogger,
  );
}

function instruments(enabled: boolean, shutdown: () => Promise<void>, auditLogger?: OtelLogger): Telemetry {
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
    exportAuditAnchor(anchor) {
      auditLogger?.emit({
        eventName: 'paddock.audit.anchor',
        severityNumber: SeverityNumber.INFO,
        severityText: 'INFO',
        body: JSON.stringify(anchor),
        attributes: { 'paddock.audit.anchor': anchor.anchor, 'paddock.audit.seq': anchor.seq },
      });
    },
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
