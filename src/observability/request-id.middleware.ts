import { randomUUID } from 'node:crypto';
import { Injectable, NestMiddleware } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'x-request-id';
const VALID_ID = /^[\x21-\x7e]{1,128}$/;
const ID = Symbol('requestId');

type WithId = Request & { [ID]?: string };

/** The request's id: the caller's X-Request-Id when it is sane, else a new UUID. */
export function requestIdOf(req: Request): string {
  const withId = req as WithId;
  if (!withId[ID]) {
    const given = req.headers[REQUEST_ID_HEADER];
    withId[ID] = typeof given === 'string' && VALID_ID.test(given) ? given : randomUUID();
  }
  return withId[ID];
}

/** Takes or makes X-Request-Id and echoes it on the response; it also goes on the Kafka record. */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    res.setHeader('X-Request-Id', requestIdOf(req));
    next();
  }
}
