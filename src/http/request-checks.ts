import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { ErrorCode, ServiceError } from '../common/errors';
import { checkTransferCoding } from './content-coding';

/*
 * What a request's line and framing headers must be before anything else looks at it: one valid Host
 * (RFC 9112 §3.2), a transfer coding Node's parser understands (RFC 9112 §6.1), and a target whose
 * percent-encoding decodes to UTF-8 (RFC 3986 §2.1). Each violation throws the refusal.
 */

/**
 * host[:port]: a DNS name or IPv4 address (letters, digits, `-`, `.`, `_`, `~`) or an IPv6 literal in
 * brackets. Stricter than RFC 3986's reg-name (no sub-delims, no %-escapes): the value is echoed into the
 * actuator's links, and no real host name needs more.
 */
const VALID_HOST = /^(?:[A-Za-z0-9._~-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

/** The path of a request target, without its query. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

const ROUTE = Symbol('route');
type Routed = FastifyRequest & { [ROUTE]?: FastifyRequest['routeOptions'] };

/**
 * The options of the route the router chose for the request (its `url` is the route's template, undefined
 * when none matched). Read once per request: Fastify's `request.routeOptions` builds a new object each time.
 */
export function routeOf(request: FastifyRequest): FastifyRequest['routeOptions'] {
  return ((request as Routed)[ROUTE] ??= request.routeOptions);
}

const malformed = (message: string): ServiceError => new ServiceError(ErrorCode.MalformedRequest, message);

/** One Host header, with a valid host[:port]; required in HTTP/1.1, at most one in HTTP/1.0. */
function checkHost(raw: IncomingMessage): void {
  let count = 0;
  let value = '';
  for (let i = 0; i < raw.rawHeaders.length; i += 2) {
    if (raw.rawHeaders[i]!.length === 4 && raw.rawHeaders[i]!.toLowerCase() === 'host') {
      count += 1;
      value = raw.rawHeaders[i + 1]!;
    }
  }
  if (count > 1) {
    throw malformed('More than one Host header (RFC 9112 §3.2)');
  }
  if (count === 0) {
    if (raw.httpVersion === '1.0') {
      return;
    }
    throw malformed('A Host header is required (RFC 9112 §3.2)');
  }
  if (!VALID_HOST.test(value)) {
    throw malformed('The Host header is not a valid host[:port] (RFC 9112 §3.2)');
  }
}

/**
 * Whether every %-escape of a request target is % and two hex digits and the escapes decode to UTF-8. The
 * query parser would otherwise keep a malformed one as literal text (`%E0%A4%A` as the content).
 */
export function wellPercentEncoded(url: string): boolean {
  if (!url.includes('%')) {
    return true;
  }
  try {
    decodeURIComponent(url);
    return true;
  } catch {
    return false;
  }
}

/** Throws the refusal of a request whose Host, transfer coding or target encoding is not acceptable. */
export function checkRequestFraming(raw: IncomingMessage): void {
  checkHost(raw);
  checkTransferCoding(raw.headers);
  if (!wellPercentEncoded(raw.url ?? '')) {
    throw malformed(
      'The URL has malformed percent-encoding (RFC 3986 §2.1: % and two hex digits, decoding to UTF-8)',
    );
  }
}
