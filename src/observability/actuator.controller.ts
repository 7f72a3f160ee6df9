import { Controller, Get, Header, HttpCode, Options, Req, UseInterceptors } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ActuatorContentNegotiation } from './actuator-media-type';

export interface Link {
  href: string;
  templated: boolean;
}

/**
 * The endpoints the actuator exposes, as Spring's links index names them: the id, then a templated link
 * (`<id>-<variable>`) where the endpoint takes a path variable. Spring's `health-path` template is
 * `{*path}`; here it is one segment (a group or a component).
 */
const LINKS: { rel: string; path: string }[] = [
  { rel: 'health', path: 'health' },
  { rel: 'health-path', path: 'health/{*path}' },
  { rel: 'info', path: 'info' },
  { rel: 'metrics-requiredMetricName', path: 'metrics/{requiredMetricName}' },
  { rel: 'metrics', path: 'metrics' },
  { rel: 'prometheus', path: 'prometheus' },
];

/** The route templates OPTIONS answers on: every actuator endpoint and the index. */
const OPTIONS_PATHS = ['', 'health', 'health/:component', 'info', 'metrics', 'metrics/:name', 'prometheus'];

/** Where this request reached the service: Spring writes the index's links from the request URL too. */
function baseUrlOf(request: FastifyRequest): string {
  const host = request.host || `${request.socket.localAddress ?? '127.0.0.1'}:${request.socket.localPort}`;
  return `${request.protocol}://${host}/actuator`;
}

/**
 * Spring Boot Actuator's discovery surface: `GET /actuator`, the links index clients such as Spring Boot
 * Admin read to find the endpoints, and `OPTIONS` on every endpoint (200 with `Allow`, no body), which is
 * how Spring Boot Admin probes for them when there is no index.
 */
@Controller('actuator')
export class ActuatorController {
  @Get()
  @UseInterceptors(ActuatorContentNegotiation)
  links(@Req() request: FastifyRequest): { _links: Record<string, Link> } {
    const base = baseUrlOf(request);
    const links: Record<string, Link> = { self: { href: base, templated: false } };
    for (const { rel, path } of LINKS) {
      links[rel] = { href: `${base}/${path}`, templated: path.includes('{') };
    }
    return { _links: links };
  }

  @Options(OPTIONS_PATHS)
  @HttpCode(200)
  @Header('Allow', 'GET,HEAD,OPTIONS')
  allow(): void {}
}
