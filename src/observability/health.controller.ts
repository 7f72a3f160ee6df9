import { Controller, Get, NotFoundException, Param, Req, Res, UseInterceptors } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ACTUATOR_V2_JSON, ActuatorContentNegotiation, actuatorMediaTypeOf } from './actuator-media-type';
import { HealthDetailsPolicy } from './health-details';
import { HealthGroup, HealthReport, HealthReporter, httpStatusOf } from './health-reporter';

/**
 * Spring Boot Actuator's health endpoint and Kubernetes probe groups: 200 when UP, 503 when DOWN or
 * OUT_OF_SERVICE, with the body in Spring's shape either way (v2 media type: `details` for `components`);
 * each component's details only for those HEALTH_SHOW_DETAILS allows (HealthDetailsPolicy).
 */
@Controller('actuator/health')
@UseInterceptors(ActuatorContentNegotiation)
export class HealthController {
  constructor(
    private readonly reporter: HealthReporter,
    private readonly details: HealthDetailsPolicy,
  ) {}

  @Get()
  health(@Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply): Promise<HealthReport> {
    return this.render(req, res, 'all');
  }

  /** The process only: never touches Kafka, so a broker outage does not get the pod restarted. */
  @Get('liveness')
  liveness(@Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply): Promise<HealthReport> {
    return this.render(req, res, 'liveness');
  }

  /** Kafka reachable and the producer connected: whether to send this instance traffic. */
  @Get('readiness')
  readiness(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<HealthReport> {
    return this.render(req, res, 'readiness');
  }

  /** One component, as Spring's /actuator/health/{component}. */
  @Get(':component')
  component(
    @Param('component') component: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<HealthReport> {
    if (!this.reporter.componentNames().includes(component)) {
      throw new NotFoundException(`No health component named ${component}`);
    }
    return this.render(req, res, 'all', component);
  }

  private async render(
    req: FastifyRequest,
    res: FastifyReply,
    group: HealthGroup,
    only?: string,
  ): Promise<HealthReport> {
    const report = await this.reporter.report(group, {
      only,
      showDetails: this.details.showsTo(req.headers),
    });
    void res.status(httpStatusOf(report.status));
    // Probes must see the state now, never a cached answer from a proxy.
    void res.header('Cache-Control', 'no-store');
    if (actuatorMediaTypeOf(req) === ACTUATOR_V2_JSON && report.components) {
      // Spring's v2 health names the nested components `details`.
      const { components, ...rest } = report;
      return { ...rest, details: components };
    }
    return report;
  }
}
