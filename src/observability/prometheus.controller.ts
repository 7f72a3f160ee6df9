import { Controller, Get, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { metricsRegistry } from './cluster-metrics';

/** /actuator/prometheus: every worker's metrics summed when WORKERS > 1, this process's otherwise. */
@Controller()
export class AggregatingPrometheusController extends PrometheusController {
  @Get()
  override async index(@Res({ passthrough: true }) response: FastifyReply): Promise<string> {
    const registry = await metricsRegistry();
    void response.header('Content-Type', registry.contentType);
    return registry.metrics();
  }
}
