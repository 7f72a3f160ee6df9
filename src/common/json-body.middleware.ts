import { Injectable, NestMiddleware } from '@nestjs/common';
import { json, NextFunction, Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { requestIdOf } from '../observability/request-id.middleware';
import { sendError } from './error-response';
import { ErrorCode } from './errors';

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Parses JSON request bodies (Nest's own body parser is off) and answers bad bodies itself, before any
 * route runs: 415 for a body that is not JSON, 413 for one over HTTP_BODY_LIMIT_BYTES (refused from its
 * Content-Length, before it is read), 400 for malformed JSON.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: ReturnType<typeof json>;

  constructor(private readonly config: AppConfig) {
    this.parse = json({ limit: config.http.bodyLimitBytes, strict: false, type: () => true });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!hasBody(req)) {
      next();
      return;
    }
    const path = req.originalUrl.split('?')[0] ?? req.originalUrl;
    const requestId = requestIdOf(req);
    const contentType = req.headers['content-type'] ?? '';
    if (!JSON_MEDIA_TYPE.test(contentType)) {
      sendError(res, 415, {
        code: ErrorCode.UnsupportedMediaType,
        message: `Content-Type must be application/json (got ${contentType ? `"${contentType.slice(0, 100)}"` : 'none'})`,
        requestId,
        path,
      });
      return;
    }
    this.parse(req, res, (error?: unknown) => {
      if (!error) {
        next();
        return;
      }
      const { type, status } = error as { type?: string; status?: number };
      if (type === 'entity.too.large') {
        sendError(res, 413, {
          code: ErrorCode.PayloadTooLarge,
          message: `Request body exceeds ${this.config.http.bodyLimitBytes} bytes`,
          requestId,
          path,
        });
      } else if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
        sendError(res, 415, {
          code: ErrorCode.UnsupportedMediaType,
          message: 'Unsupported body charset or encoding; send UTF-8 JSON',
          requestId,
          path,
        });
      } else {
        sendError(res, status && status >= 400 && status < 500 ? status : 400, {
          code: ErrorCode.InvalidInput,
          message: `Malformed JSON body: ${(error as Error).message}`,
          requestId,
          path,
        });
      }
    });
  }
}
