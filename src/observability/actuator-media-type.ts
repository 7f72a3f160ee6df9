import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import { Observable, tap } from 'rxjs';
import { ErrorCode, ServiceError } from '../common/errors';

export const ACTUATOR_V3_JSON = 'application/vnd.spring-boot.actuator.v3+json';
export const ACTUATOR_V2_JSON = 'application/vnd.spring-boot.actuator.v2+json';

/** What Spring Boot's actuator endpoints produce, in its order of preference (EndpointMediaTypes.DEFAULT). */
const PRODUCED = [ACTUATOR_V3_JSON, ACTUATOR_V2_JSON, 'application/json'];

const NEGOTIATED = Symbol('actuatorMediaType');
type Negotiated = FastifyRequest & { [NEGOTIATED]?: string };

/**
 * The type an actuator answer is written in, for this Accept header, as Spring MVC picks it: the client's
 * preference by quality, ties broken by Spring's order, so no Accept or any wildcard (`*` / `*`,
 * `application/*`) gets the v3 type and only a client asking for `application/json` alone gets that.
 * undefined when the header allows none of them (Spring answers 406).
 */
export function negotiateActuatorMediaType(accept: string | undefined): string | undefined {
  // Spring reads a missing or empty Accept as "anything".
  const header = accept === undefined || accept.trim() === '' ? '*/*' : accept;
  return new Negotiator({ headers: { accept: header } }).mediaType(PRODUCED);
}

/** The type negotiated for this request by ActuatorContentNegotiation (v3 if it did not run). */
export function actuatorMediaTypeOf(request: FastifyRequest): string {
  return (request as Negotiated)[NEGOTIATED] ?? ACTUATOR_V3_JSON;
}

/**
 * Content negotiation for the actuator's JSON endpoints, as Spring Boot does it: the answer's Content-Type
 * is the negotiated actuator type (Spring Boot Admin reads `application/json` as a Spring Boot 1.x answer
 * and converts it), and an Accept header that allows none of them is refused with 406 before the handler
 * runs. Errors keep the error shape's `application/json`.
 */
@Injectable()
export class ActuatorContentNegotiation implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Negotiated>();
    const type = negotiateActuatorMediaType(request.headers.accept);
    if (type === undefined) {
      throw new ServiceError(
        ErrorCode.NotAcceptable,
        `Accept must allow ${PRODUCED.join(', ')} (got ${JSON.stringify(request.headers.accept?.slice(0, 100))})`,
      );
    }
    request[NEGOTIATED] = type;
    return next.handle().pipe(tap(() => void http.getResponse<FastifyReply>().header('Content-Type', type)));
  }
}
