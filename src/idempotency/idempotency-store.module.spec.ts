import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { HealthRegistry } from '../observability/health-registry';
import { Metrics } from '../observability/metrics';
import { IDEMPOTENCY_STORE, IdempotencyStore } from './idempotency-store';
import { IdempotencyStoreModule } from './idempotency-store.module';
import { MemoryIdempotencyStore } from './memory-idempotency.store';

/** The module under the app's global providers, with the store replaced when `store` is given. */
async function build(env: Record<string, string>, store?: IdempotencyStore) {
  @Global()
  @Module({
    providers: [
      { provide: AppConfig, useValue: new AppConfig(validateEnvironment(env)) },
      Metrics,
      HealthRegistry,
    ],
    exports: [AppConfig, Metrics, HealthRegistry],
  })
  class AppGlobals {}

  let builder = Test.createTestingModule({ imports: [AppGlobals, IdempotencyStoreModule] });
  if (store) {
    builder = builder.overrideProvider(IDEMPOTENCY_STORE).useValue(store);
  }
  const moduleRef = await builder.compile();
  await moduleRef.init();
  return moduleRef;
}

const sharedStore: IdempotencyStore = {
  claim: () => Promise.reject(new Error('not used')),
  health: () => Promise.resolve({ status: 'UP' }),
};

describe(IdempotencyStoreModule.name, () => {
  it('keeps keys in memory without IDEMPOTENCY_STORE_URL, with no health component', async () => {
    const moduleRef = await build({});

    expect(moduleRef.get(IDEMPOTENCY_STORE)).toBeInstanceOf(MemoryIdempotencyStore);
    expect(moduleRef.get(HealthRegistry).entries()).toEqual([]);
  });

  it('does not connect to the shared store when IDEMPOTENCY_ENABLED=false', async () => {
    const moduleRef = await build({
      IDEMPOTENCY_STORE_URL: 'redis://redis:6379',
      IDEMPOTENCY_ENABLED: 'false',
    });

    expect(moduleRef.get(IDEMPOTENCY_STORE)).toBeInstanceOf(MemoryIdempotencyStore);
    expect(moduleRef.get(HealthRegistry).entries()).toEqual([]);
  });

  it('shows the shared store as the idempotencyStore health component, outside readiness by default', async () => {
    const moduleRef = await build({ IDEMPOTENCY_STORE_URL: 'redis://redis:6379' }, sharedStore);

    expect(moduleRef.get(HealthRegistry).entries()).toEqual([
      { name: 'idempotencyStore', check: expect.any(Function), readiness: false },
    ]);
  });

  it('puts the shared store in readiness with IDEMPOTENCY_STORE_IN_READINESS=true', async () => {
    const moduleRef = await build(
      { IDEMPOTENCY_STORE_URL: 'redis://redis:6379', IDEMPOTENCY_STORE_IN_READINESS: 'true' },
      sharedStore,
    );

    expect(moduleRef.get(HealthRegistry).entries()).toMatchObject([
      { name: 'idempotencyStore', readiness: true },
    ]);
  });
});
