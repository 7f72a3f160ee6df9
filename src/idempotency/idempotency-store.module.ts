import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../observability/metrics';
import { IDEMPOTENCY_STORE, IdempotencyStore } from './idempotency-store';
import { IdempotencyStoreHealth } from './idempotency-store.health';
import { MemoryIdempotencyStore } from './memory-idempotency.store';
import { createStoreClient, RedisIdempotencyStore } from './redis-idempotency.store';

function createStore(config: AppConfig, metrics: Metrics): IdempotencyStore {
  const { enabled, store, ttlMs } = config.idempotency;
  // With IDEMPOTENCY_ENABLED=false no key is ever claimed: no connection to the store either.
  return enabled && store
    ? new RedisIdempotencyStore(createStoreClient(store), store, ttlMs, metrics)
    : new MemoryIdempotencyStore(config.idempotency, metrics);
}

/**
 * Owns where Idempotency-Keys live, chosen by configuration: this process's memory (the default), or Redis
 * shared by every instance and worker (IDEMPOTENCY_STORE_URL; the only module that imports @redis/client),
 * which is then the `idempotencyStore` component of /actuator/health (IdempotencyStoreHealth; in readiness
 * when IDEMPOTENCY_STORE_IN_READINESS is true).
 */
@Module({
  providers: [
    { provide: IDEMPOTENCY_STORE, inject: [AppConfig, Metrics], useFactory: createStore },
    IdempotencyStoreHealth,
  ],
  exports: [IDEMPOTENCY_STORE],
})
export class IdempotencyStoreModule {}
