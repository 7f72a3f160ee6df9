import { Injectable, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { HEALTH_COMPONENTS } from './health-components';
import { ComponentHealthIndicator, HealthComponent, HealthStatus, SPRING_STATUS } from './health-indicator';

/**
 * Spring Boot's health JSON: `{"status":"UP","groups":["liveness","readiness"],"components":{"kafka":…}}`
 * (`groups` on the root only; `details` instead of `components` in the v2 media type).
 */
export interface HealthReport {
  status: HealthStatus;
  groups?: HealthGroupName[];
  components?: Record<string, HealthComponent>;
  details?: Record<string, unknown>;
}

export type HealthGroup = 'all' | HealthGroupName;
/** The health groups, as Spring's root health lists them. */
export type HealthGroupName = 'liveness' | 'readiness';
export const HEALTH_GROUPS: HealthGroupName[] = ['liveness', 'readiness'];

/** Spring's order: the worst status wins; UNKNOWN counts least. */
const SEVERITY: Record<HealthStatus, number> = { DOWN: 3, OUT_OF_SERVICE: 2, UP: 1, UNKNOWN: 0 };

/** Spring answers 503 for DOWN and OUT_OF_SERVICE, 200 otherwise. */
export function httpStatusOf(status: HealthStatus): number {
  return status === 'DOWN' || status === 'OUT_OF_SERVICE' ? 503 : 200;
}

export function aggregate(statuses: HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>((worst, s) => (SEVERITY[s] > SEVERITY[worst] ? s : worst), 'UP');
}

/** The liveness group is the process itself: if it can answer, it is alive. */
const LIVENESS_STATE = 'livenessState';

type IndicatorData = HealthIndicatorResult[string] & { [SPRING_STATUS]?: HealthStatus };

/** One component of Terminus' result in Spring's shape: its status, and its details when they are shown. */
function toComponent(data: IndicatorData, showDetails: boolean): HealthComponent {
  const { status, [SPRING_STATUS]: springStatus, ...details } = data;
  const component: HealthComponent = { status: springStatus ?? (status === 'up' ? 'UP' : 'DOWN') };
  if (showDetails && Object.keys(details).length > 0) {
    component.details = details;
  }
  return component;
}

/**
 * /actuator/health through Terminus: each component's indicator (HEALTH_COMPONENTS) composed by
 * HealthCheckService.check (which also turns every check to 503 while the app shuts down), the result
 * rendered in Spring's shape. Each indicator is bounded by HEALTH_TIMEOUT_MS and one that throws is DOWN with
 * its error, so one bad component can neither hang nor break the probe.
 */
@Injectable()
export class HealthReporter implements OnModuleInit {
  private readonly indicators = new Map<string, ComponentHealthIndicator>();
  /** The components of this configuration, in HEALTH_COMPONENTS' order, with their readiness decided. */
  private components: { key: string; readiness: boolean }[] = [];

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly terminus: HealthCheckService,
    private readonly indicatorService: HealthIndicatorService,
    private readonly config: AppConfig,
  ) {}

  /** Each indicator is a provider of the module that owns the component. */
  onModuleInit(): void {
    for (const { key, indicator, present, readiness } of HEALTH_COMPONENTS) {
      if (present && !present(this.config)) {
        continue;
      }
      this.indicators.set(key, this.moduleRef.get(indicator, { strict: false }));
      this.components.push({
        key,
        readiness: typeof readiness === 'function' ? readiness(this.config) : readiness === true,
      });
    }
  }

  componentNames(): string[] {
    return this.components.map((component) => component.key);
  }

  /** A group's (or one component's) health; without `showDetails`, statuses only. */
  async report(group: HealthGroup, options: { only?: string; showDetails: boolean }): Promise<HealthReport> {
    const { only, showDetails } = options;
    const keys =
      group === 'liveness'
        ? [LIVENESS_STATE]
        : this.components
            .filter((c) => (group === 'readiness' ? c.readiness : true))
            .filter((c) => only === undefined || c.key === only)
            .map((c) => c.key);
    const result = await this.check(
      keys.map((key) =>
        key === LIVENESS_STATE ? () => this.indicatorService.check(key).up() : () => this.bounded(key),
      ),
    );
    const found = result.details as Record<string, IndicatorData>;
    // Terminus lists the up components before the down ones; Spring keeps the registry's order.
    const components = Object.fromEntries(
      keys.filter((key) => found[key]).map((key) => [key, toComponent(found[key]!, showDetails)]),
    );
    if (only !== undefined) {
      return components[only] ?? { status: 'UNKNOWN' };
    }
    const status =
      result.status === 'shutting_down'
        ? 'OUT_OF_SERVICE'
        : aggregate(Object.values(components).map((c) => c.status));
    return group === 'all' ? { status, groups: HEALTH_GROUPS, components } : { status, components };
  }

  /** HealthCheckService.check, whose 503 (a component down, or shutting down) still carries the result. */
  private async check(indicators: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.terminus.check(indicators);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) {
        throw error;
      }
      return error.getResponse() as HealthCheckResult;
    }
  }

  private async bounded(key: string): Promise<HealthIndicatorResult> {
    const session = this.indicatorService.check(key);
    const indicator = this.indicators.get(key);
    if (!indicator) {
      throw new Error(`no health indicator for ${key}`);
    }
    // A little over HEALTH_TIMEOUT_MS, so components that bound themselves (Kafka) report their own reason.
    const timeoutMs = this.config.health.timeoutMs + 500;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<HealthIndicatorResult>((resolve) => {
      timer = setTimeout(
        () => resolve(session.down({ error: `no answer within ${timeoutMs} ms` })),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([Promise.resolve().then(() => indicator.isHealthy(key)), timeout]);
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      return session.down({ error: `${name}: ${message}` });
    } finally {
      clearTimeout(timer);
    }
  }
}
