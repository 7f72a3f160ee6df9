import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { reasonPhrase, sendError, statusOf } from './error-response';
import { logRequest } from './request-log';
import { ErrorCode, ServiceError } from './errors';
import { ACCEPTED_CONTENT_CODINGS } from '../http/content-coding';

/** The exception's class, kept on the reply for http_server_requests_seconds{exception}. */
export const EXCEPTION_CLASS = Symbol('exceptionClass');
export type WithExceptionClass = FastifyReply & { [EXCEPTION_CLASS]?: string };
const REFUSAL_LISTENERS = Symbol('refusalListeners');
type WithRefusalListeners = FastifyRequest & { [REFUSAL_LISTENERS]?: ((code?: string) => void)[] };

/**
 * Calls `listener` with the error's code (undefined for one without) when this request is refused: when the
 * filter decides its error answer, also when the client has already gone and the answer is never written
 * (Fastify's onResponse does not run then).
 */
export function onRefusal(req: FastifyRequest, listener: (code?: string) => void): void {
  ((req as WithRefusalListeners)[REFUSAL_LISTENERS] ??= []).push(listener);
}

/**
 * Nest turns Fastify's own refusals into HttpExceptions by status (body over the limit from its
 * Content-Length, a body shorter than its Content-Length, a path with bad percent-encoding), and
 * answers unknown routes with one: their codes here.
 */
const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: ErrorCode.MalformedRequest,
  404: ErrorCode.NotFound,
  408: ErrorCode.RequestTimeout,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
};

function pathOf(req: FastifyRequest): string {
  const url = req.url;
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/**
 * The one place that writes error responses. Everything that refuses a request throws: controllers and
 * pipes through Nest, and Fastify's hooks and body parser through Fastify's error handler, which Nest routes
 * here too. Domain errors carry their code (statusOf maps it); Fastify's refusals are mapped to codes;
 * Nest's HttpExceptions (unknown routes) keep their status; anything else is a bug: 500, logged with its
 * stack. Causes go to the log, never into the body.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.answer(exception, http.getRequest<FastifyRequest>(), http.getResponse<WithExceptionClass>());
  }

  /**
   * Writes the answer to `exception`: from catch(), and for the refusals Fastify's router makes before
   * there is a route (a malformed URL path: http-server.ts's frameworkErrors), which never reach Nest.
   */
  answer(exception: unknown, req: FastifyRequest, reply: WithExceptionClass): void {
    const error = this.asServiceError(exception, req);
    for (const listener of (req as WithRefusalListeners)[REFUSAL_LISTENERS]?.splice(0) ?? []) {
      listener(error?.code);
    }
    if (reply.sent) {
      return;
    }
    reply[EXCEPTION_CLASS] = exception instanceof Error ? exception.constructor.name : 'Unknown';
    const requestId = String(req.id);
    const path = pathOf(req);
    const headers: Record<string, string> = {};
    // A refused request whose body was not read (413 on its Content-Length, 401 before the body): the
    // connection is closed after the answer instead of waiting for bytes the client may never send.
    if (!req.raw.complete) {
      headers.connection = 'close';
    }

    if (error) {
      const status = statusOf(error.code);
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const line = `${req.method} ${path} -> ${status} ${error.code} ${error.message}${cause} [request ${requestId}]`;
      // 501 is the client's request using what the server does not implement, not a server failure (a
      // client abort is logged at info by the onRequestAbort hook, http-server.ts).
      const serverFault = status >= 500 && error.code !== ErrorCode.NotImplemented;
      logRequest(serverFault ? 'error' : 'debug', 'Errors', req, line);
      if (error.code === ErrorCode.Unauthenticated) {
        headers['www-authenticate'] = 'Bearer realm="kafka-producer-service"';
      }
      if (error.code === ErrorCode.UnsupportedMediaType) {
        headers['accept-encoding'] = ACCEPTED_CONTENT_CODINGS;
      }
      if (error.options.allow !== undefined) {
        headers.allow = error.options.allow.join(', ');
      }
      if (error.options.retryAfterSeconds !== undefined) {
        headers['retry-after'] = String(error.options.retryAfterSeconds);
      }
      sendError(
        reply,
        status,
        { code: error.code, message: error.message, details: error.details, requestId, path },
        headers,
      );
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      sendError(
        reply,
        status,
        {
          code: reasonPhrase(status).toUpperCase().replace(/ /g, '_'),
          message: messageOf(exception),
          requestId,
          path,
        },
        headers,
      );
      return;
    }
    logRequest('error', 'Errors', req, `${req.method} ${path} -> 500 [request ${requestId}]`, {
      stack: exception instanceof Error ? exception.stack : String(exception),
    });
    sendError(
      reply,
      500,
      { code: 'INTERNAL_ERROR', message: 'Internal server error', requestId, path },
      headers,
    );
  }

  /** Domain errors as they are; Fastify's refusals and unknown routes as domain errors. */
  private asServiceError(exception: unknown, req: FastifyRequest): ServiceError | undefined {
    if (exception instanceof ServiceError) {
      return exception;
    }
    // Node's `aborted` error on a request body the client stopped sending (it closed the connection).
    if ((exception as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET' && !req.raw.complete) {
      return new ServiceError(
        ErrorCode.ClientClosedRequest,
        'The client closed the connection before the request was complete',
      );
    }
    if (exception instanceof HttpException) {
      const code = HTTP_EXCEPTION_CODES[exception.getStatus()];
      return code === undefined ? undefined : new ServiceError(code, messageOf(exception));
    }
    return undefined;
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  const detail = typeof response === 'string' ? response : (response as { message?: unknown }).message;
  return Array.isArray(detail) ? detail.join('; ') : typeof detail === 'string' ? detail : exception.message;
}
