import { Injectable } from '@nestjs/common';

export type HealthStatus = 'UP' | 'DOWN' | 'OUT_OF_SERVICE' | 'UNKNOWN';

export interface HealthComponent {
  status: HealthStatus;
  details?: Record<string, unknown>;
}

export type HealthCheck = () => Promise<HealthComponent> | HealthComponent;

/**
 * Where modules contribute components to /actuator/health (Spring's HealthContributorRegistry): the
 * Kafka module its cluster check, the feedback module its consumer state. `readiness` marks components
 * that /actuator/health/readiness includes.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, { check: HealthCheck; readiness: boolean }>();

  register(name: string, check: HealthCheck, options: { readiness?: boolean } = {}): void {
    this.checks.set(name, { check, readiness: options.readiness ?? false });
  }

  entries(): { name: string; check: HealthCheck; readiness: boolean }[] {
    return [...this.checks.entries()].map(([name, entry]) => ({ name, ...entry }));
  }
}
