import { Context, trace } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';

/** The trace context of a request (its HTTP server span), kept on the request by installHttpLayer. */
export const TRACE_CONTEXT = Symbol('traceContext');
export type Traced = { id: string; [TRACE_CONTEXT]?: Context };

/**
 * A line about one request at pino's own level (LOG_LEVEL): straight to pino, so Nest's logger level list
 * does not filter it. Its requestId, and trace_id/span_id when the request is traced, are JSON fields.
 */
export function logRequest(
  level: 'debug' | 'info' | 'warn' | 'error',
  context: string,
  request: Traced,
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  const ctx = request[TRACE_CONTEXT];
  const span = ctx && trace.getSpanContext(ctx);
  const traced =
    span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
  PinoLogger.root[level]({ context, requestId: request.id, ...traced, ...fields }, msg);
}
