import { IncomingMessage, ServerResponse } from 'node:http';
import { Request } from 'express';
import { Params } from 'nestjs-pino';
import pino, { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';
import { requestIdOf } from './request-id.middleware';

/** Where log lines go: stdout unless a test replaces it (overrideProvider) to read them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

export function stdoutDestination(): DestinationStream {
  return pino.destination(1);
}

function pathOf(req: IncomingMessage): string {
  const url = (req as Request).originalUrl ?? req.url ?? '';
  return url.split('?')[0] ?? url;
}

/** pino-pretty is a development dependency: without it, pretty falls back to JSON rather than crash. */
async function prettyStream(destination: DestinationStream): Promise<DestinationStream | undefined> {
  try {
    const { default: pretty } = await import('pino-pretty');
    return pretty({
      destination,
      colorize: false,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name,context',
      messageFormat: '[{context}] {msg}',
    });
  } catch {
    return undefined;
  }
}

/**
 * nestjs-pino's setup: JSON lines in production, one readable line each in development. Every line
 * written while handling a request carries its `requestId` (X-Request-Id), because nestjs-pino binds the
 * request's child logger to the request's async context and Nest's Logger writes through it. Actuator
 * probes and scrapes are not logged; credentials in headers never are.
 */
export async function loggerParams(config: AppConfig, destination: DestinationStream): Promise<Params> {
  const stream =
    config.log.format === 'pretty' ? ((await prettyStream(destination)) ?? destination) : destination;
  return {
    pinoHttp: [
      {
        level: config.log.level,
        name: config.app.name,
        genReqId: (req: IncomingMessage) => requestIdOf(req as Request),
        quietReqLogger: true,
        customAttributeKeys: { reqId: 'requestId' },
        serializers: {
          req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
          res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
          // pino-http invents an Error for every 5xx; its stack says nothing (the exception filter logs the cause).
          err: (err: { message?: string }) => ({ message: err.message }),
        },
        redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
        autoLogging: { ignore: (req: IncomingMessage) => pathOf(req).startsWith('/actuator') },
        customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
          error || res.statusCode >= 500 ? 'error' : 'info',
        customSuccessMessage: (req: IncomingMessage, res: ServerResponse, ms: number) =>
          `${req.method} ${pathOf(req)} -> ${res.statusCode} in ${Math.round(ms)} ms`,
        customErrorMessage: (req: IncomingMessage, res: ServerResponse) =>
          `${req.method} ${pathOf(req)} -> ${res.statusCode}`,
      },
      stream,
    ],
  };
}
