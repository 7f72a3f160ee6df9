import { Params } from 'nestjs-pino';
import pino, { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';

/** Where log lines go: stdout unless a test replaces it (overrideProvider) to read them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

export function stdoutDestination(): DestinationStream {
  return pino.destination(1);
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
      // The context in brackets only when a line has one.
      messageFormat: (log, messageKey) => {
        const message = log[messageKey] as string;
        return typeof log.context === 'string' && log.context ? `[${log.context}] ${message}` : message;
      },
    });
  } catch {
    return undefined;
  }
}

/**
 * nestjs-pino's setup: JSON lines in production, one readable line each in development. Nest's Logger
 * writes through pino. There is no per-request logger (no pino-http middleware: binding a child logger to
 * every request cost ~8% of the CPU under load); the lines about a request (its failure, a slow request,
 * the optional access log written by installHttpLayer) name its request id (common/request-log.ts). Credentials are never logged.
 */
export async function loggerParams(config: AppConfig, destination: DestinationStream): Promise<Params> {
  const stream =
    config.log.format === 'pretty' ? ((await prettyStream(destination)) ?? destination) : destination;
  return {
    forRoutes: [],
    pinoHttp: [{ level: config.log.level, name: config.app.name }, stream],
  };
}
