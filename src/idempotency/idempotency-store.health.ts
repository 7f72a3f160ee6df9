import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ComponentHealthIndicator, report } from '../observability/health-indicator';
import { IDEMPOTENCY_STORE, IdempotencyStore } from './idempotency-store';

/**
 * The shared Idempotency-Key store as the `idempotencyStore` component of /actuator/health (listed in
 * HEALTH_COMPONENTS only when IDEMPOTENCY_STORE_URL is set): UP when it answers a PING in time.
 */
@Injectable()
export class IdempotencyStoreHealth implements ComponentHealthIndicator {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isHealthy(key: string): Promise<HealthIndicatorResult> {
    const component = (await this.store.health?.()) ?? { status: 'UP', details: { store: 'memory' } };
    return report(this.indicators.check(key), component.status, component.details);
  }
}
