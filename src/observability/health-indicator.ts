import { Type } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { AppConfig } from '../config/app-config';

/** What HealthIndicatorService.check(key) gives (Terminus does not export its class). */
export type HealthIndicatorSession = ReturnType<HealthIndicatorService['check']>;

/** Spring Boot's health statuses. */
export type HealthStatus = 'UP' | 'DOWN' | 'OUT_OF_SERVICE' | 'UNKNOWN';

/** One component as Spring's health JSON shows it. */
export interface HealthComponent {
  status: HealthStatus;
  details?: Record<string, unknown>;
}

/**
 * A component's Terminus health indicator: checks the component and reports it with Terminus'
 * HealthIndicatorService (`check(key).up(details)` / `.down(details)`).
 */
export interface ComponentHealthIndicator {
  isHealthy(key: string): Promise<HealthIndicatorResult> | HealthIndicatorResult;
}

/** A component of /actuator/health: its key, its indicator (a provider of any module), its groups. */
export interface HealthComponentSpec {
  key: string;
  indicator: Type<ComponentHealthIndicator>;
  /** Whether /actuator/health/readiness includes it (liveness is the process alone); may depend on configuration. */
  readiness?: boolean | ((config: AppConfig) => boolean);
  /** Whether the component exists in this configuration (absent: always). */
  present?: (config: AppConfig) => boolean;
}

/**
 * Terminus knows `up` and `down`; Spring also UNKNOWN (counts as up: 200) and OUT_OF_SERVICE (counts as
 * down: 503). The Spring status travels beside Terminus' under this key, which JSON never shows.
 */
export const SPRING_STATUS = Symbol('springStatus');

/** Reports a component in one of Spring's statuses through a Terminus session. */
export function report(
  session: HealthIndicatorSession,
  status: HealthStatus,
  details: Record<string, unknown> = {},
): HealthIndicatorResult {
  const data = { ...details, [SPRING_STATUS]: status };
  return status === 'UP' || status === 'UNKNOWN' ? session.up(data) : session.down(data);
}
