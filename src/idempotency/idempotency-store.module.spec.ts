import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { HEALTH_COMPONENTS } from '../observability/health-components';
import { Metrics } from '../observability/metrics';
import { IDEMPOTENCY_STORE, IdempotencyStore } from './idempotency-store';
import { IdempotencyStoreHealth } from './idempotency-store.health';
import { IdempotencyStoreModule } from './idempotency-store.module';
import { MemoryIdempotencyStore } from './memory-idempotency.store';

const config = (env: Record<string, string>): AppConfig => new AppConfig(validateEnvironment(env));

/** The module under the app's global providers, with the store replaced when `store` is given. */
async function build(env: Record<string, string>, store?: IdempotencyStore) {
  @Global()
  @Module({
    imports: [TerminusModule],
    providers: [{ provide: AppConfig, useValue: config(env) }, Metrics],
    exports: [AppConfig, Metrics, TerminusModule],
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

const storeComponent = HEALTH_COMPONENTS.find((component) => component.key === 'idempotencyStore')!;
const readiness = storeComponent.readiness as (config: AppConfig) => boolean;

describe(IdempotencyStoreModule.name, () => {
  it('keeps keys in memory without IDEMPOTENCY_STORE_URL, with no health component', async () => {
    const moduleRef = await build({});

    expect(moduleRef.get(IDEMPOTENCY_STORE)).toBeInstanceOf(MemoryIdempotencyStore);
    expect(storeComponent.present!(config({}))).toBe(false);
  });

  it('does not connect to the shared store when IDEMPOTENCY_ENABLED=false', async () => {
    const env = { IDEMPOTENCY_STORE_URL: 'redis://redis:6379', IDEMPOTENCY_ENABLED: 'false' };
    const moduleRef = await build(env);

    expect(moduleRef.get(IDEMPOTENCY_STORE)).toBeInstanceOf(MemoryIdempotencyStore);
    expect(storeComponent.present!(config(env))).toBe(false);
  });

  it('shows the shared store as the idempotencyStore health component, outside readiness by default', async () => {
    const env = { IDEMPOTENCY_STORE_URL: 'redis://redis:6379' };
    const moduleRef = await build(env, {
      claim: () => Promise.reject(new Error('not used')),
      health: () => Promise.resolve({ status: 'DOWN', details: { store: 'redis', error: 'timeout' } }),
    });

    expect(storeComponent.present!(config(env))).toBe(true);
    expect(readiness(config(env))).toBe(false);
    expect(await moduleRef.get(IdempotencyStoreHealth).isHealthy('idempotencyStore')).toEqual({
      idempotencyStore: expect.objectContaining({ status: 'down', store: 'redis', error: 'timeout' }),
    });
  });

  it('puts the shared store in readiness with IDEMPOTENCY_STORE_IN_READINESS=true', () => {
    expect(
      readiness(
        config({ IDEMPOTENCY_STORE_URL: 'redis://redis:6379', IDEMPOTENCY_STORE_IN_READINESS: 'true' }),
      ),
    ).toBe(true);
  });
});
