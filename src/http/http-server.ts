import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { INestApplication } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { writeResponseError } from '../common/error-response';
import { ErrorCode, ServiceError } from '../common/errors';
import { ShutdownGate } from '../common/shutdown-gate';
import { AppConfig } from '../config/app-config';
import { TRACE_CONTEXT, Traced } from '../common/request-log';
import { Metrics } from '../observability/metrics';
import { extractContext, SpanKind, startSpan, tracingOn } from '../observability/tracing';
import { ApiKeys } from './api-keys';
import { installClientErrorAnswers } from './client-errors';
import { drainOnClose, installConnectionCap } from './connections';
import { decodeText } from './charset';
import { decodedBody } from './content-coding';
import { checkRequestFraming, pathOf, routeOf } from './request-checks';
import { beginObservation, installRequestObserver } from './request-observer';
import { JSON_CONTENT_TYPE, parseJsonBody } from './json-body';
import { CLOUDEVENTS_JSON_CONTENT_TYPE, readRawBody, takesRawBody } from './raw-body';

export const REQUEST_ID_HEADER = 'x-request-id';

/** The CloudEvents route (events/events.controller.ts), off when CLOUDEVENTS_ENABLED=false. */
export const EVENTS_ROUTE = '/api/events';

/** The trace context of a request to the API (its server span's), for the spans and records it causes. */
export function traceContextOf(request: FastifyRequest): Context | undefined {
  return (request as Traced)[TRACE_CONTEXT];
}

/** A route as the router knows it: its registered template (`/actuator/metrics/:name`) and method. */
export interface KnownRoute {
  path: string;
  method: string;
}

const ROUTES = new WeakMap<object, KnownRoute[]>();

/** Every route the app's router dispatches to (HEAD routes Fastify adds for GETs included). */
export function registeredRoutes(app: INestApplication): KnownRoute[] {
  return [...(ROUTES.get(app) ?? [])];
}
const VALID_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The methods a route can be registered for, in the order an Allow header lists them. */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The caller's X-Request-Id when it is sane, else a new UUID: Fastify's request.id. */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : randomUUID();
}

const FRAMEWORK_ERRORS = new AllExceptionsFilter();

/** A refusal of Fastify's router as a domain error (anything else stays what it is: a 500). */
function frameworkRefusal(error: Error & { code?: string }): unknown {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new ServiceError(
        ErrorCode.MalformedRequest,
        'The URL path has malformed percent-encoding (RFC 3986 §2.1: % and two hex digits, decoding to UTF-8)',
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ServiceError(ErrorCode.UriTooLong, 'A path segment is longer than 200 characters');
    default:
      return error;
  }
}

/**
 * The HTTP server: Fastify under Nest, with every limit set from configuration. Node's parser enforces
 * the header size and the header/request deadlines (checked every second), Fastify the body limit (from
 * Content-Length before the body is read, and while it streams) and the keep-alive policy. Routing is
 * case-sensitive and exact (no trailing-slash or duplicate-slash folding): one spelling per route.
 */
export function createHttpAdapter(config: AppConfig): FastifyAdapter {
  const http = config.http;
  return new FastifyAdapter({
    logger: false,
    bodyLimit: http.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: requestIdOf,
    routerOptions: {
      caseSensitive: true,
      ignoreTrailingSlash: false,
      ignoreDuplicateSlashes: false,
      maxParamLength: 200,
    },
    keepAliveTimeout: http.keepAliveTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    // A socket with no bytes either way is dropped too; later than the request deadline, so a stalled
    // request gets its 408 (Node checks the deadlines once a second) before its socket goes.
    connectionTimeout: http.requestTimeoutMs + 5000,
    // HTTP_MAX_REQUESTS_PER_SOCKET is counted in onRequest (installHttpLayer), not by Node: Node answers
    // requests pipelined past its limit with a bare 503, outside the documented error shape.
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    // No Nest middleware is used: every per-request step is a Fastify hook (installHttpLayer).
    skipMiddie: true,
    // The router's own refusals (a path with malformed percent-encoding, an over-long path parameter) come
    // before any route or hook: answered by the exception filter's code, in the documented shape.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      FRAMEWORK_ERRORS.answer(frameworkRefusal(error), request, reply);
    },
    http: {
      maxHeaderSize: http.maxHeaderBytes,
      headersTimeout: http.headersTimeoutMs,
      connectionsCheckingInterval: 1000,
      // Host is checked in onRequest (request-checks.ts), so that its 400 has the documented shape.
      requireHostHeader: false,
    },
  });
}

/**
 * Closing a server closes the kept-alive connections idle at that moment; one busy then would stay open
 * after its answer for HTTP_KEEP_ALIVE_TIMEOUT_MS (72 s), holding the close. So, from now until the server
 * has closed, idle connections are closed every 100 ms: shutdown (lifecycle.ts) and app.close() end one
 * answer after the last request. Does nothing once the server stopped listening.
 */
export function sweepIdleConnections(server: Server): void {
  if (!server.listening) {
    return;
  }
  const sweeper = setInterval(() => server.closeIdleConnections(), 100).unref();
  server.once('close', () => clearInterval(sweeper));
}

function queryParameterCount(url: string): number {
  const query = url.indexOf('?');
  if (query < 0 || query === url.length - 1) {
    return 0;
  }
  let count = 1;
  for (let i = url.indexOf('&', query); i >= 0; i = url.indexOf('&', i + 1)) {
    count += 1;
  }
  return count;
}

/**
 * Every per-request step, as Fastify hooks in the order they run, plus the JSON body parser and the answer
 * to requests Node's parser refuses. Refusals throw: Fastify hands them to Nest's exception handler, so
 * AllExceptionsFilter writes every error response.
 *
 * onRequest (after routing, before the body is read): X-Request-Id, the connection's request count
 * (HTTP_MAX_REQUESTS_PER_SOCKET), Host, transfer coding and URL encoding (request-checks.ts), 405 for a
 * known path with another method, the server span (produce API), the shutdown gate, the query parameter
 * cap, the API key; a route turned off answers 404 first.
 * preParsing: Content-Encoding decoded (content-coding.ts). Body: JSON only, decoded by its charset
 * (charset.ts), bounded, parsed and shape-checked (json-body.ts), except on routes that take raw bodies
 * (raw-body.ts: /api/events' binary mode). onResponse and onRequestAbort: request-observer.ts.
 */
export function installHttpLayer(app: INestApplication): void {
  const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  const config = app.get(AppConfig);
  const metrics = app.get(Metrics);
  const gate = app.get(ShutdownGate);
  const apiKeys = new ApiKeys(config);
  const { maxQueryParameters } = config.http;
  // Routes turned off by configuration answer 404 as unknown ones do, before anything else is checked.
  const disabledRoutes = new Set(config.cloudEvents.enabled ? [] : [EVENTS_ROUTE]);

  // Connections that close after an answer decided on: a request pipelined behind it is not processed,
  // since its answer could never be sent (a record written for it would be one its client is never told of).
  const closing = new WeakSet<Socket>();
  /** The answer closes the connection (Connection: close); what is pipelined behind it is not processed. */
  const closeAfterAnswer = (request: FastifyRequest, reply: FastifyReply): void => {
    void reply.header('connection', 'close');
    closing.add(request.raw.socket);
  };
  // Requests begun on each connection, when HTTP_MAX_REQUESTS_PER_SOCKET limits them.
  const { maxRequestsPerSocket } = config.http;
  const begun = new WeakMap<Socket, number>();

  const routes: KnownRoute[] = [];
  ROUTES.set(app, routes);
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ path: route.url, method });
    }
  });

  fastify.addHook(
    'onRequest',
    (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      beginObservation(request);
      if (closing.has(request.raw.socket)) {
        // Its answer could not be sent: the connection closes after the earlier request's (RFC 9112 §9.6).
        done(
          new ServiceError(
            ErrorCode.MalformedRequest,
            'Sent after a request that closes the connection: not processed (RFC 9112 §9.6)',
          ),
        );
        return;
      }
      if (maxRequestsPerSocket > 0) {
        // The last request a connection serves closes it; those pipelined behind it are not processed.
        const socket = request.raw.socket;
        const count = (begun.get(socket) ?? 0) + 1;
        begun.set(socket, count);
        if (count >= maxRequestsPerSocket) {
          closeAfterAnswer(request, reply);
        }
      }
      const template = routeOf(request).url;
      try {
        checkRequestFraming(request.raw);
      } catch (error) {
        done(error as Error);
        return;
      }
      // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing; the connection is
      // closed after it, whatever its Connection header says.
      if (request.raw.httpVersion === '1.0' && request.headers['transfer-encoding'] !== undefined) {
        closeAfterAnswer(request, reply);
      }
      if (template === undefined) {
        // No route for this method: a 405 naming the methods there are, if the path has any (RFC 9110 §15.5.6).
        const path = pathOf(request.url);
        const allow = HTTP_METHODS.filter(
          (method) => fastify.findRoute({ method, url: path }) !== null && !disabledRoutes.has(path),
        );
        if (allow.length > 0) {
          done(
            new ServiceError(
              ErrorCode.MethodNotAllowed,
              `${request.method.slice(0, 20)} is not allowed on ${path.slice(0, 200)} (Allow: ${allow.join(', ')})`,
              { allow },
            ),
          );
          return;
        }
      }
      if (template !== undefined && disabledRoutes.has(template)) {
        done(
          new ServiceError(
            ErrorCode.NotFound,
            `Cannot ${request.method} ${template}: CloudEvents ingestion is turned off (CLOUDEVENTS_ENABLED=false)`,
          ),
        );
        return;
      }
      // The API's requests get an HTTP server span, continuing the caller's traceparent when it sent one.
      // With the SDK off, only a request that brings a traceparent is touched (to pass it on).
      if (
        (template?.startsWith('/api/messages') || template === EVENTS_ROUTE) &&
        (tracingOn() || request.headers.traceparent !== undefined)
      ) {
        const traced = startSpan(
          `${request.method} ${template}`,
          SpanKind.SERVER,
          extractContext(request.headers),
          {
            'http.request.method': request.method,
            'http.route': template,
            'url.path': pathOf(request.url),
          },
        );
        (request as Traced)[TRACE_CONTEXT] = traced.context;
        beginObservation(request, traced.span);
      }
      if (gate.isClosed) {
        closeAfterAnswer(request, reply);
        if (template?.startsWith('/api/')) {
          done(
            new ServiceError(
              ErrorCode.ShuttingDown,
              'The service is shutting down; retry on another instance',
              {
                retryAfterSeconds: 1,
              },
            ),
          );
          return;
        }
      }
      if (queryParameterCount(request.url) > maxQueryParameters) {
        done(
          new ServiceError(ErrorCode.MalformedRequest, `More than ${maxQueryParameters} query parameters`),
        );
        return;
      }
      if (apiKeys.protects(template)) {
        try {
          apiKeys.check(request.headers);
        } catch (error) {
          done(error as Error);
          return;
        }
      }
      done();
    },
  );

  // Bodies with a Content-Encoding are decoded as they stream in (content-coding.ts).
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.headers['content-encoding'] === undefined) {
      done(null, payload);
      return;
    }
    try {
      done(null, decodedBody(request.raw, config.http.bodyLimitBytes));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_CONTENT_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    if (takesRawBody(request) && !CLOUDEVENTS_JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? '')) {
      done(null, body);
      return;
    }
    try {
      done(null, parseJsonBody(decodeText(body as Buffer, request.headers['content-type'])));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  fastify.addContentTypeParser('*', (request, payload, done) => {
    if (takesRawBody(request)) {
      readRawBody(payload, config.http.bodyLimitBytes).then(
        (body) => done(null, body),
        (error: Error) => done(error, undefined),
      );
      return;
    }
    const type = request.headers['content-type'] ?? '';
    done(
      new ServiceError(
        ErrorCode.UnsupportedMediaType,
        `Content-Type must be application/json (got ${type ? `"${type.slice(0, 100)}"` : 'none'})`,
      ),
      undefined,
    );
  });

  // An answer given before the request's body was read closes the connection (the filter adds
  // Connection: close): drained, so that the client still receives the answer while it sends the body.
  fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    if (reply.getHeader('connection') === 'close') {
      closing.add(request.raw.socket);
      if (!request.raw.complete) {
        drainOnClose(request.raw.socket);
      }
    }
    done(null, payload);
  });

  installRequestObserver(fastify, metrics, config);

  const server = app.getHttpServer() as Server;
  fastify.addHook('preClose', (done) => {
    sweepIdleConnections(server);
    done();
  });

  // Connections over HTTP_MAX_CONNECTIONS are answered 503 rather than reset (connections.ts).
  installConnectionCap(server, config.http.maxConnections, metrics);
  // An Expect other than 100-continue (which Node answers itself): 417, RFC 9110 §10.1.1.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const expectation = String(req.headers.expect).slice(0, 40);
    drainOnClose(req.socket);
    writeResponseError(res, requestIdOf(req), pathOf(req.url ?? ''), {
      code: ErrorCode.ExpectationFailed,
      message: `Expect "${expectation}" cannot be met: only 100-continue is supported`,
    });
  });
  // Requests Node's parser refuses get the documented error shape too, after the answers to the
  // connection's earlier requests; then the connection is closed (client-errors.ts).
  installClientErrorAnswers(server, metrics);
}
