import { Global, Module } from '@nestjs/common';
import { HealthRegistry } from './health-registry';
import { Metrics } from './metrics';

/** Metric definitions, actuator endpoints, request ids and logging. */
@Global()
@Module({
  providers: [Metrics, HealthRegistry],
  exports: [Metrics, HealthRegistry],
})
export class ObservabilityModule {}
