import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { DestinationStream } from 'pino';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { ActuatorController } from './actuator.controller';
import { HealthController } from './health.controller';
import { HealthDetailsPolicy } from './health-details';
import { HealthReporter } from './health-reporter';
import { InfoController } from './info.controller';
import { LOG_DESTINATION, loggerParams, stdoutDestination } from './logging';
import { METRIC_PROVIDERS } from './metric-definitions';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { AggregatingPrometheusController } from './prometheus.controller';

/**
 * The operational surface, shaped like Spring Boot Actuator: metric definitions and
 * /actuator/prometheus (with Node's default process metrics), /actuator/health and its probe groups,
 * /actuator/info, /actuator/metrics, the /actuator links index and OPTIONS on each endpoint, each JSON
 * answer in the negotiated actuator media type; request ids and the HTTP request timer; structured logging.
 */
@Global()
@Module({
  imports: [
    PrometheusModule.register({
      path: '/actuator/prometheus',
      defaultMetrics: { enabled: true },
      controller: AggregatingPrometheusController,
    }),
    // Health transitions are logged by the components themselves; Terminus would log every failed probe.
    TerminusModule.forRoot({ logger: false }),
    LoggerModule.forRootAsync({
      providers: [{ provide: LOG_DESTINATION, useFactory: stdoutDestination }],
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream) => loggerParams(config, destination),
    }),
  ],
  controllers: [ActuatorController, HealthController, InfoController, MetricsController],
  // The metric providers first: /actuator/prometheus lists metrics in the order they were made.
  providers: [...METRIC_PROVIDERS, Metrics, HealthReporter, HealthDetailsPolicy],
  // TerminusModule: HealthIndicatorService for every module's health indicator.
  exports: [...METRIC_PROVIDERS, Metrics, TerminusModule],
})
export class ObservabilityModule {}
