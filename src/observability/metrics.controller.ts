import { Controller, Get, NotFoundException, Param, Query, UseInterceptors } from '@nestjs/common';
import { ErrorCode, ServiceError } from '../common/errors';
import { ActuatorContentNegotiation } from './actuator-media-type';
import { metricsRegistry } from './cluster-metrics';
import { MetricCatalog, MetricDescription, parseTagFilters } from './metric-catalog';

/**
 * Spring Boot Actuator's metrics endpoint over the Prometheus registry: `/actuator/metrics` lists names in
 * Micrometer's dotted form, `/actuator/metrics/{name}?tag=key:value` shows one metric's measurements (summed
 * over the workers when WORKERS > 1).
 */
@Controller('actuator/metrics')
@UseInterceptors(ActuatorContentNegotiation)
export class MetricsController {
  @Get()
  async names(): Promise<{ names: string[] }> {
    return { names: await new MetricCatalog(await metricsRegistry()).names() };
  }

  @Get(':name')
  async metric(@Param('name') name: string, @Query('tag') tag: unknown): Promise<MetricDescription> {
    const filters = parseTagFilters(tag);
    if (typeof filters === 'string') {
      throw new ServiceError(ErrorCode.InvalidInput, filters);
    }
    const description = await new MetricCatalog(await metricsRegistry()).describe(name, filters);
    if (!description) {
      throw new NotFoundException(`No metric named ${name}${tag === undefined ? '' : ' with those tags'}`);
    }
    return description;
  }
}
