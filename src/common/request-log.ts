import { PinoLogger } from 'nestjs-pino';

/**
 * A line about one request, with its requestId (and any other fields) as JSON fields, at pino's own level
 * (LOG_LEVEL): straight to pino, so Nest's logger level list does not filter it.
 */
export function logRequest(
  level: 'debug' | 'info' | 'warn' | 'error',
  context: string,
  fields: { requestId: string } & Record<string, unknown>,
  msg: string,
): void {
  PinoLogger.root[level]({ context, ...fields }, msg);
}
