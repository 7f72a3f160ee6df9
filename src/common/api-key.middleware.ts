import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, NestMiddleware } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { requestIdOf } from '../observability/request-id.middleware';
import { sendError } from './error-response';
import { ErrorCode } from './errors';

/** Keys are compared as SHA-256 digests: equal length always, so timingSafeEqual leaks nothing about them. */
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * API authentication, off unless API_KEYS (or API_KEYS_FILE) is set. Then every /api/** call needs one of
 * the keys as `Authorization: Bearer <key>` or `X-API-Key: <key>`; /actuator/** (except health, which
 * probes need) too when ACTUATOR_REQUIRE_API_KEY=true. Runs before the body is read, so an
 * unauthenticated caller never gets its body parsed.
 */
@Injectable()
export class ApiKeyMiddleware implements NestMiddleware {
  private readonly keys: Buffer[];

  constructor(private readonly config: AppConfig) {
    this.keys = config.security.apiKeys.map(digest);
  }

  private protects(path: string): boolean {
    if (path === '/api' || path.startsWith('/api/')) {
      return !path.startsWith('/api/docs');
    }
    if (path.startsWith('/actuator')) {
      return this.config.security.actuatorRequiresApiKey && !/^\/actuator\/health(\/|$)/.test(path);
    }
    return false;
  }

  private presented(req: Request): string | undefined {
    const header = req.headers['x-api-key'];
    if (typeof header === 'string' && header.length > 0) {
      return header;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return match?.[1];
  }

  private accepts(key: string): boolean {
    const candidate = digest(key);
    // Compare against every key, always, so the time taken does not say which one (if any) matched.
    return this.keys.reduce((ok, known) => timingSafeEqual(known, candidate) || ok, false);
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const path = req.originalUrl.split('?')[0] ?? req.originalUrl;
    if (this.keys.length === 0 || !this.protects(path)) {
      next();
      return;
    }
    const key = this.presented(req);
    if (key !== undefined && this.accepts(key)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="kafka-producer-service"');
    sendError(res, 401, {
      code: ErrorCode.Unauthenticated,
      message:
        key === undefined
          ? 'An API key is required (Authorization: Bearer <key> or X-API-Key)'
          : 'The API key is not valid',
      requestId: requestIdOf(req),
      path,
    });
  }
}
