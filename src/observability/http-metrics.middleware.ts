import { Injectable, NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { NextFunction, Request, Response } from 'express';
import { EXCEPTION_LOCAL } from '../common/all-exceptions.filter';
import { Metrics } from './metrics';
import { isCatchAll, RouteTemplates, routesOf, springTemplate, unmatchedUri } from './route-templates';

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

/**
 * Records Spring's http_server_requests_seconds{method,uri,status,outcome,exception} for every request
 * when its response is finished (or the client went away). `uri` is the route template, never the raw
 * path, so ids in paths cannot blow up the series count.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private templates?: RouteTemplates;

  constructor(
    private readonly metrics: Metrics,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const stop = this.metrics.httpRequests.startTimer();
    let recorded = false;
    const record = (): void => {
      if (recorded) {
        return;
      }
      recorded = true;
      const status = res.statusCode;
      const exception = res.locals[EXCEPTION_LOCAL] as unknown;
      stop({
        method: req.method,
        uri: this.uriOf(req, status),
        status: String(status),
        outcome: outcomeOf(status),
        exception: typeof exception === 'string' ? exception : 'None',
      });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  }

  private uriOf(req: Request, status: number): string {
    const route = (req as { route?: unknown }).route as { path?: unknown } | undefined;
    // Nest mounts middleware as catch-all routes (`/{*path}`); only a handler's route names the template.
    // Nest registers every handler on the app's own router, so its path is the full template.
    if (typeof route?.path === 'string' && !isCatchAll(route.path)) {
      return springTemplate(route.path);
    }
    // Routes are all registered once the first request arrives.
    this.templates ??= new RouteTemplates(routesOf(this.adapterHost.httpAdapter.getInstance()));
    const path = req.originalUrl.split('?')[0] ?? req.originalUrl;
    return this.templates.match(req.method, path) ?? unmatchedUri(status);
  }
}
