import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { HealthCheck, HealthComponent, HealthRegistry, HealthStatus } from './health-registry';

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

/**
 * Runs the registered health components through Terminus (which also turns every check to 503 while the
 * app shuts down) and renders the result in Spring's shape. Each check is bounded by HEALTH_TIMEOUT_MS and
 * a check that throws is DOWN with its error, so one bad component can neither hang nor break the probe.
 */
@Injectable()
export class HealthReporter {
  constructor(
    private readonly registry: HealthRegistry,
    private readonly terminus: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly config: AppConfig,
  ) {}

  /** The liveness group is the process itself: if it can answer, it is alive. */
  private readonly livenessState: HealthCheck = () => ({ status: 'UP' });

  componentNames(): string[] {
    return this.registry.entries().map((entry) => entry.name);
  }

  async report(group: HealthGroup, only?: string): Promise<HealthReport> {
    const checks =
      group === 'liveness'
        ? [{ name: 'livenessState', check: this.livenessState }]
        : this.registry
            .entries()
            .filter((entry) => (group === 'readiness' ? entry.readiness : true))
            .filter((entry) => only === undefined || entry.name === only);
    const components: Record<string, HealthComponent> = {};
    const indicators: HealthIndicatorFunction[] = checks.map(({ name, check }) => async () => {
      const component = await this.bounded(check);
      components[name] = component;
      const session = this.indicators.check(name);
      return httpStatusOf(component.status) === 200 ? session.up() : session.down();
    });
    let result: HealthCheckResult;
    try {
      result = await this.terminus.check(indicators);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) {
        throw error;
      }
      result = error.getResponse() as HealthCheckResult;
    }
    const ordered = Object.fromEntries(
      checks.filter(({ name }) => components[name]).map(({ name }) => [name, components[name]!]),
    );
    const status =
      result.status === 'shutting_down'
        ? 'OUT_OF_SERVICE'
        : aggregate(Object.values(ordered).map((c) => c.status));
    if (only !== undefined) {
      return ordered[only] ?? { status: 'UNKNOWN' };
    }
    return group === 'all'
      ? { status, groups: HEALTH_GROUPS, components: ordered }
      : { status, components: ordered };
  }

  private async bounded(check: HealthCheck): Promise<HealthComponent> {
    // A little over HEALTH_TIMEOUT_MS, so components that bound themselves (Kafka) report their own reason.
    const timeoutMs = this.config.health.timeoutMs + 500;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<HealthComponent>((resolve) => {
      timer = setTimeout(
        () => resolve({ status: 'DOWN', details: { error: `no answer within ${timeoutMs} ms` } }),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([Promise.resolve().then(check), timeout]);
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      return { status: 'DOWN', details: { error: `${name}: ${message}` } };
    } finally {
      clearTimeout(timer);
    }
  }
}
