import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';

/** Keys are compared as SHA-256 digests: equal length always, so timingSafeEqual leaks nothing about them. */
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Routes (templates) that never need a key: health probes and the API documentation. */
const OPEN_ROUTE = /^\/(?:actuator\/health(?:\/|$)|api\/docs(?:[-/]|$))/;

/**
 * API authentication, off unless API_KEYS (or API_KEYS_FILE) is set. The decision is made on the route
 * the router dispatched the request to (its registered template, in an onRequest hook, before the body is
 * read), never on the raw path: every spelling the router accepts for a protected route (case,
 * percent-encoding, trailing slash, HEAD) reaches the same template and so the same decision. Protected:
 * every /api/** route except the docs, and /actuator/** except health when ACTUATOR_REQUIRE_API_KEY=true.
 */
export class ApiKeys {
  private readonly keys: Buffer[];
  private readonly decisions = new Map<string, boolean>();

  constructor(private readonly config: AppConfig) {
    this.keys = config.security.apiKeys.map(digest);
  }

  /** Whether requests routed to this template need a key. Unrouted requests (404s) need none. */
  protects(routeTemplate: string | undefined): boolean {
    if (this.keys.length === 0 || routeTemplate === undefined) {
      return false;
    }
    let protectedRoute = this.decisions.get(routeTemplate);
    if (protectedRoute === undefined) {
      protectedRoute =
        !OPEN_ROUTE.test(routeTemplate) &&
        (routeTemplate.startsWith('/api/') ||
          (routeTemplate.startsWith('/actuator') && this.config.security.actuatorRequiresApiKey));
      this.decisions.set(routeTemplate, protectedRoute);
    }
    return protectedRoute;
  }

  /** Throws UNAUTHENTICATED unless the headers carry a known key. */
  check(headers: IncomingHttpHeaders): void {
    const key = presented(headers);
    if (key !== undefined && this.accepts(key)) {
      return;
    }
    throw new ServiceError(
      ErrorCode.Unauthenticated,
      key === undefined
        ? 'An API key is required (Authorization: Bearer <key> or X-API-Key)'
        : 'The API key is not valid',
    );
  }

  private accepts(key: string): boolean {
    const candidate = digest(key);
    // Compare against every key, always, so the time taken does not say which one (if any) matched.
    return this.keys.reduce((ok, known) => timingSafeEqual(known, candidate) || ok, false);
  }
}

function presented(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) {
    return header;
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}
