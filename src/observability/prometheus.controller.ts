import { Controller, Get, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { aggregatesWorkers, metricsRegistry } from './cluster-metrics';

/**
 * /actuator/prometheus: nestjs-prometheus' own exposition of its registry in a single process; in a worker
 * of WORKERS > 1, every worker's metrics summed (cluster-metrics.ts).
 */
@Controller()
export class AggregatingPrometheusController extends PrometheusController {
  @Get()
  override async index(@Res({ passthrough: true }) response: FastifyReply): Promise<string> {
    if (!aggregatesWorkers()) {
      return super.index(response);
    }
    const registry = await metricsRegistry();
    void response.header('Content-Type', registry.contentType);
    return registry.metrics();
  }
}
