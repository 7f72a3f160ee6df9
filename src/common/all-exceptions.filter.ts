import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { Request, Response } from 'express';
import { requestIdOf } from '../observability/request-id.middleware';
import { reasonPhrase, sendError, statusOf } from './error-response';
import { ServiceError } from './errors';

/** Marks the response with the exception's class, for http_server_requests_seconds{exception}. */
export const EXCEPTION_LOCAL = 'exceptionClass';

/**
 * Maps every exception to the service's error shape, once. Domain errors carry their code; Nest's
 * HttpExceptions (unknown routes, …) keep their status; anything else is a bug: 500, logged with its stack.
 * Causes (Kafka errors, stacks) go to the log, never into the body.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const requestId = requestIdOf(req);
    const path = req.originalUrl.split('?')[0] ?? req.originalUrl;
    res.locals[EXCEPTION_LOCAL] = exception instanceof Error ? exception.constructor.name : 'Unknown';

    if (exception instanceof ServiceError) {
      const status = statusOf(exception.code);
      const cause = exception.cause instanceof Error ? `: ${exception.cause.message}` : '';
      const line = `${req.method} ${path} -> ${status} ${exception.code} ${exception.message}${cause} [request ${requestId}]`;
      if (status >= 500) {
        this.logger.error(line);
      } else {
        this.logger.debug(line);
      }
      sendError(
        res,
        status,
        { code: exception.code, message: exception.message, details: exception.details, requestId, path },
        exception.options.retryAfterSeconds,
      );
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const detail = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      const message = Array.isArray(detail)
        ? detail.join('; ')
        : typeof detail === 'string'
          ? detail
          : exception.message;
      sendError(res, status, {
        code: reasonPhrase(status).toUpperCase().replace(/ /g, '_'),
        message,
        requestId,
        path,
      });
      return;
    }
    this.logger.error(
      `${req.method} ${path} -> 500 [request ${requestId}]`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    sendError(res, 500, { code: 'INTERNAL_ERROR', message: 'Internal server error', requestId, path });
  }
}
