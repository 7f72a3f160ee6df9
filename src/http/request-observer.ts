import type { Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EXCEPTION_CLASS, WithExceptionClass } from '../common/all-exceptions.filter';
import { logRequest } from '../common/request-log';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../observability/metrics';
import { endSpan } from '../observability/tracing';
import { pathOf, routeOf } from './request-checks';

/*
 * What is recorded about each request once it is over: http_server_requests_seconds (Spring's tags), the
 * end of its server span, and the access and slow-request log lines; for an answered request and for one
 * its client abandoned before it was complete.
 */

const SERVER_SPAN = Symbol('serverSpan');
/** When the request's onRequest hook ran (performance.now()), for the duration of an aborted one. */
const STARTED = Symbol('started');
type Observed = FastifyRequest & { [SERVER_SPAN]?: Span; [STARTED]?: number };

/** Marks the start of a request (onRequest), and its server span when it has one. */
export function beginObservation(request: FastifyRequest, span?: Span): void {
  const observed = request as Observed;
  observed[STARTED] ??= performance.now();
  if (span) {
    observed[SERVER_SPAN] = span;
  }
}

/** Each route's Spring template, worked out once (a route's template is fixed; there are a few dozen). */
const SPRING_TEMPLATES = new Map<string, string>();

/** Spring's uri tag: Nest's `/actuator/metrics/:name` as `/actuator/metrics/{name}`. */
export function springTemplate(path: string): string {
  let template = SPRING_TEMPLATES.get(path);
  if (template === undefined) {
    template = path.replace(/:(\w+)/g, '{$1}');
    SPRING_TEMPLATES.set(path, template);
  }
  return template;
}

/** Spring's fixed `uri` values when no handler matched (WebMvcTags). */
export function unmatchedUri(status: number): string {
  return status === 404 ? 'NOT_FOUND' : 'UNKNOWN';
}

/** Spring's `outcome` tag. */
export function outcomeOf(status: number): string {
  if (status >= 100 && status < 200) {
    return 'INFORMATIONAL';
  }
  if (status >= 200 && status < 300) {
    return 'SUCCESS';
  }
  if (status >= 300 && status < 400) {
    return 'REDIRECTION';
  }
  if (status >= 400 && status < 500) {
    return 'CLIENT_ERROR';
  }
  return status >= 500 && status < 600 ? 'SERVER_ERROR' : 'UNKNOWN';
}

/** Installs the onRequestAbort and onResponse hooks that record every request. */
export function installRequestObserver(fastify: FastifyInstance, metrics: Metrics, config: AppConfig): void {
  /** http_server_requests_seconds and the server span's end, for an answered or an aborted request. */
  const observe = (request: FastifyRequest, status: number, seconds: number, exception: string): void => {
    const template = routeOf(request).url;
    metrics.httpRequests.observe(
      {
        exception,
        method: request.method,
        error: exception,
        uri: template === undefined ? unmatchedUri(status) : springTemplate(template),
        outcome: outcomeOf(status),
        status: String(status),
      },
      seconds,
    );
    const span = (request as Observed)[SERVER_SPAN];
    if (span) {
      span.setAttribute('http.response.status_code', status);
      endSpan(span, status >= 500 ? new Error(`HTTP ${status}`) : undefined);
    }
  };

  // A client that closes its connection before its request is complete gets no answer, and Fastify runs
  // no onResponse: the request is counted with nginx's 499 ("client closed request") and Tomcat's
  // exception name, and logged at info. It is the client's doing, never a 500.
  fastify.addHook('onRequestAbort', (request: FastifyRequest, done: () => void) => {
    const started = (request as Observed)[STARTED] ?? performance.now();
    observe(request, 499, (performance.now() - started) / 1000, 'ClientAbortException');
    logRequest(
      'info',
      'Http',
      request,
      `${request.method} ${pathOf(request.url)} -> 499: the client closed the connection before the request was complete`,
    );
    done();
  });

  const slowMs = config.log.slowRequestMs;
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const status = reply.statusCode;
    const template = routeOf(request).url;
    // Spring's `exception` and `error` tags: the class of what was thrown, `none` when nothing was.
    observe(
      request,
      status,
      reply.elapsedTime / 1000,
      (reply as WithExceptionClass)[EXCEPTION_CLASS] ?? 'none',
    );
    const ms = Math.round(reply.elapsedTime);
    const slow = slowMs > 0 && ms >= slowMs;
    if (config.log.access || slow) {
      const msg = `${request.method} ${pathOf(request.url)} -> ${status} in ${ms} ms`;
      const fields = { req: { method: request.method, url: request.url } };
      if (slow) {
        logRequest('warn', 'Http', request, `slow request: ${msg}`, fields);
      } else if (!template?.startsWith('/actuator')) {
        logRequest('info', 'Http', request, msg, fields);
      }
    }
    done();
  });
}
