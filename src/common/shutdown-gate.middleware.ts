import { Injectable, NestMiddleware } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { requestIdOf } from '../observability/request-id.middleware';
import { sendError } from './error-response';
import { ErrorCode } from './errors';

/**
 * Once shutdown begins (main.ts closes the gate), /api/** requests that still arrive on kept-alive
 * connections get 503 SHUTTING_DOWN, and every response asks the client to close its connection, so the
 * HTTP server can finish draining instead of serving a keep-alive load forever.
 */
@Injectable()
export class ShutdownGate implements NestMiddleware {
  private closed = false;

  close(): void {
    this.closed = true;
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!this.closed) {
      next();
      return;
    }
    res.setHeader('Connection', 'close');
    const path = req.originalUrl.split('?')[0] ?? req.originalUrl;
    if (!path.startsWith('/api/')) {
      next();
      return;
    }
    sendError(
      res,
      503,
      {
        code: ErrorCode.ShuttingDown,
        message: 'The service is shutting down; retry on another instance',
        requestId: requestIdOf(req),
        path,
      },
      1,
    );
  }
}
