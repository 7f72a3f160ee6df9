import {
  Attributes,
  Context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  TextMapGetter,
  TextMapPropagator,
  TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { isTracingSuppressed, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/*
 * W3C trace context and OpenTelemetry spans. The propagator is always on: an incoming `traceparent` /
 * `tracestate` goes on to the records even when nothing is exported. The SDK (spans, sampling, OTLP/HTTP
 * export) starts only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and
 * reads the standard OTEL_* variables itself (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER[_ARG],
 * OTEL_EXPORTER_OTLP_HEADERS, …). Without it the tracer is OpenTelemetry's no-op: nearly free, and the SDK
 * and exporter are not even loaded (~1.4 MB of heap).
 */

/** W3C Trace Context §3.3.1.5: at most 32 list-members and 512 characters are propagated. */
const MAX_TRACE_STATE_MEMBERS = 32;
const MAX_TRACE_STATE_LENGTH = 512;
const LONG_TRACE_STATE_MEMBER = 128;

/**
 * A tracestate cut to the spec's limits by whole members (W3C Trace Context §3.3.1.5): members longer than
 * 128 characters are removed first, then members from the right, until at most 32 remain in 512 characters.
 * OpenTelemetry's parser instead skips whatever does not fit, and writes an empty header when nothing does.
 */
export function truncateTraceState(header: string): string {
  const members = header
    .split(',')
    .map((member) => member.trim())
    .filter((member) => member !== '');
  const over = (): boolean =>
    members.length > MAX_TRACE_STATE_MEMBERS || members.join(',').length > MAX_TRACE_STATE_LENGTH;
  for (let i = members.length - 1; i >= 0 && over(); i -= 1) {
    if (members[i]!.length > LONG_TRACE_STATE_MEMBER) {
      members.splice(i, 1);
    }
  }
  while (over()) {
    members.pop();
  }
  return members.join(',');
}

/**
 * The W3C propagator with two fixes: trace-flags are written as two hex digits (OpenTelemetry writes `0ff`
 * for flags ff: 56 characters, an invalid traceparent), and an incoming tracestate is truncated by members
 * as the spec says; an empty tracestate is not written at all.
 */
class TraceContextPropagator implements TextMapPropagator {
  private readonly w3c = new W3CTraceContextPropagator();

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || isTracingSuppressed(context) || !isSpanContextValid(spanContext)) {
      return;
    }
    const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
    setter.set(carrier, 'traceparent', `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`);
    const state = spanContext.traceState?.serialize();
    if (state) {
      setter.set(carrier, 'tracestate', state);
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.w3c.extract(context, carrier, {
      keys: (c) => getter.keys(c),
      get: (c, key) => {
        const value = getter.get(c, key);
        if (key !== 'tracestate' || value === undefined) {
          return value;
        }
        return truncateTraceState([value].flat().join(','));
      },
    });
  }

  fields(): string[] {
    return this.w3c.fields();
  }
}

propagation.setGlobalPropagator(new TraceContextPropagator());

let provider: NodeTracerProvider | undefined;

/** Starts the SDK if an OTLP endpoint is configured (once per process); returns whether it did. */
export async function startTracing(defaultServiceName: string): Promise<boolean> {
  if (
    provider ||
    !(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  ) {
    return provider !== undefined;
  }
  const [{ BatchSpanProcessor, NodeTracerProvider }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? defaultServiceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
  });
  provider.register({ propagator: new TraceContextPropagator() });
  return true;
}

/** Whether spans are recorded and exported (the SDK started). */
export function tracingOn(): boolean {
  return provider !== undefined;
}

/** A span that records nothing, for sends outside any trace while the SDK is off. */
export const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Flushes and stops the SDK (graceful shutdown). */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}

const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer('kafka-producer-service');

/** The trace context a carrier (HTTP headers, record headers) brings, or the root one. */
export function extractContext(carrier: Record<string, unknown>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Starts a span under `parent`; returns it with the context it is active in. */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent: Context,
  attributes: Attributes = {},
): { span: Span; context: Context } {
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** `traceparent` (and `tracestate`) of a context, as headers to write on a record. */
export function traceHeaders(ctx: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Ends a span, as an error when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    const exception = error instanceof Error ? error : new Error('send failed');
    span.recordException(exception);
    span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
  }
  span.end();
}

export { SpanKind };
