import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { ErrorCode, ServiceError } from '../common/errors';
import { routeOf } from './request-checks';

/**
 * Fastify route config (`@RouteConfig(RAW_BODY)`) of a route that takes any body as bytes: every
 * Content-Type is accepted and the body arrives as a Buffer, except the CloudEvents JSON formats, which
 * are parsed and shape-checked like JSON. Other routes keep answering 415 for non-JSON bodies.
 */
export const RAW_BODY = { rawBody: true };

/** application/cloudevents+json and application/cloudevents-batch+json: always parsed as JSON. */
export const CLOUDEVENTS_JSON_CONTENT_TYPE = /^application\/cloudevents(?:-batch)?\+json\s*(?:;|$)/i;

/** Whether the route the router chose takes raw bodies. */
export function takesRawBody(request: FastifyRequest): boolean {
  return (routeOf(request).config as { rawBody?: boolean } | undefined)?.rawBody === true;
}

function tooLarge(limit: number): ServiceError {
  return new ServiceError(ErrorCode.PayloadTooLarge, `The request body is larger than ${limit} bytes`);
}

/**
 * Reads a body stream (the request, or its decoded body) into one Buffer, refusing it (413) as soon as it is known to pass `limit`: from its
 * Content-Length before reading, else once the bytes received do (HTTP_BODY_LIMIT_BYTES, as Fastify does).
 */
export function readRawBody(payload: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // A decoded body (content-coding.ts) is limited by its decoder; the raw request by its Content-Length too.
    if (Number((payload as Partial<IncomingMessage>).headers?.['content-length']) > limit) {
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        stop();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks, received));
    };
    const onError = (error: Error): void => {
      stop();
      reject(error);
    };
    const stop = (): void => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  });
}
