import { Global, Module } from '@nestjs/common';
import { Metrics } from './metrics';

/** Metric definitions, actuator endpoints, request ids and logging. */
@Global()
@Module({
  providers: [Metrics],
  exports: [Metrics],
})
export class ObservabilityModule {}
