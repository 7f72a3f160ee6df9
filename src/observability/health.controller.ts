import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HealthGroup, HealthReport, HealthReporter, httpStatusOf } from './health-reporter';

/**
 * Spring Boot Actuator's health endpoint and Kubernetes probe groups: 200 when UP, 503 when DOWN or
 * OUT_OF_SERVICE, with the body in Spring's shape either way.
 */
@Controller('actuator/health')
export class HealthController {
  constructor(private readonly reporter: HealthReporter) {}

  @Get()
  health(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthReport> {
    return this.render(res, 'all');
  }

  /** The process only: never touches Kafka, so a broker outage does not get the pod restarted. */
  @Get('liveness')
  liveness(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthReport> {
    return this.render(res, 'liveness');
  }

  /** Kafka reachable and the producer connected: whether to send this instance traffic. */
  @Get('readiness')
  readiness(@Res({ passthrough: true }) res: FastifyReply): Promise<HealthReport> {
    return this.render(res, 'readiness');
  }

  /** One component, as Spring's /actuator/health/{component}. */
  @Get(':component')
  component(
    @Param('component') component: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<HealthReport> {
    if (!this.reporter.componentNames().includes(component)) {
      throw new NotFoundException(`No health component named ${component}`);
    }
    return this.render(res, 'all', component);
  }

  private async render(res: FastifyReply, group: HealthGroup, only?: string): Promise<HealthReport> {
    const report = await this.reporter.report(group, only);
    void res.status(httpStatusOf(report.status));
    // Probes must see the state now, never a cached answer from a proxy.
    void res.header('Cache-Control', 'no-store');
    return report;
  }
}
