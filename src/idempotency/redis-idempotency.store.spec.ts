import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { ClientOfflineError, RedisClientType, TimeoutReadError } from '@redis/client';
import { ErrorCode, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { Metrics } from '../observability/metrics';
import { KeyClaim } from './idempotency-store';
import { RedisIdempotencyStore } from './redis-idempotency.store';

const LEASE_MS = 3000;
const TTL_MS = 60000;
const KEY = 'test:idempotency:/api/messages|k1';

/** The store over a fake node-redis client (the boundary): set/eval/ping replaced by mocks. */
function make() {
  const config = new AppConfig(
    validateEnvironment({
      IDEMPOTENCY_STORE_URL: 'redis://user:secret@redis.example:6380/2',
      IDEMPOTENCY_STORE_PREFIX: 'test:idempotency:',
      IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
      IDEMPOTENCY_KEY_TTL_MS: String(TTL_MS),
    }),
  );
  const client = Object.assign(new EventEmitter(), {
    connect: jest.fn().mockResolvedValue(undefined),
    set: jest.fn().mockResolvedValue(null),
    eval: jest.fn().mockResolvedValue('OK'),
    ping: jest.fn().mockResolvedValue('PONG'),
  });
  const metrics = new Metrics();
  const sut = new RedisIdempotencyStore(
    client as unknown as RedisClientType,
    config.idempotency.store!,
    config.idempotency.ttlMs,
    metrics,
  );
  return { sut, client, metrics };
}

async function claimed(sut: RedisIdempotencyStore): Promise<KeyClaim> {
  const result = await sut.claim('/api/messages|k1', 'fp');
  if (!result.claimed) {
    throw new Error('expected the key to be claimed');
  }
  return result.claim;
}

/** The value the claim was written with (fingerprint and owner token). */
const claimValueOf = (client: ReturnType<typeof make>['client']): string =>
  client.set.mock.calls[0]![1] as string;

const errorsCounted = async (metrics: Metrics, operation: string): Promise<number> =>
  (await metrics.idempotencyStoreErrors.get()).values
    .filter((v) => v.labels.operation === operation)
    .reduce((sum, v) => sum + v.value, 0);

describe(RedisIdempotencyStore.name, () => {
  afterEach(() => jest.useRealTimers());

  it('claims a key with one SET NX PX GET under the prefix, holding the fingerprint and an owner token', async () => {
    const { sut, client } = make();

    await claimed(sut);

    expect(client.set).toHaveBeenCalledWith(KEY, expect.any(String), {
      condition: 'NX',
      expiration: { type: 'PX', value: LEASE_MS },
      GET: true,
    });
    expect(JSON.parse(claimValueOf(client))).toEqual({ f: 'fp', o: expect.any(String) });
  });

  it('reports a key in flight without a body, and an answered key with its fingerprint and body', async () => {
    const { sut, client } = make();
    client.set.mockResolvedValueOnce(JSON.stringify({ f: 'fp', o: 'other-owner' }));
    client.set.mockResolvedValueOnce(JSON.stringify({ f: 'fp', b: { offset: 7 } }));

    expect(await sut.claim('/api/messages|k1', 'fp')).toEqual({ claimed: false, fingerprint: 'fp' });
    expect(await sut.claim('/api/messages|k1', 'fp')).toEqual({
      claimed: false,
      fingerprint: 'fp',
      body: { offset: 7 },
    });
  });

  it('refuses with 503 IDEMPOTENCY_STORE_UNAVAILABLE and Retry-After when the store cannot claim, counting the error', async () => {
    const { sut, client, metrics } = make();
    client.set.mockRejectedValueOnce(new ClientOfflineError());

    const refused = await sut.claim('/api/messages|k1', 'fp').catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused).toMatchObject({
      code: ErrorCode.IdempotencyStoreUnavailable,
      options: { retryAfterSeconds: 1 },
    });
    expect(await errorsCounted(metrics, 'claim')).toBe(1);
    expect(client.eval).not.toHaveBeenCalled();
  });

  it('takes back a claim whose SET timed out after it was sent, so the key is not blocked for a lease', async () => {
    const { sut, client } = make();
    client.set.mockRejectedValueOnce(new TimeoutReadError(500));

    await expect(sut.claim('/api/messages|k1', 'fp')).rejects.toMatchObject({
      code: ErrorCode.IdempotencyStoreUnavailable,
    });

    expect(client.eval).toHaveBeenCalledWith(expect.stringContaining("'DEL'"), {
      keys: [KEY],
      arguments: [claimValueOf(client)],
    });
  });

  it('stores the answer by compare-and-set on its own claim, with the key TTL', async () => {
    const { sut, client } = make();
    const claim = await claimed(sut);

    await claim.complete({ offset: 7 });

    expect(client.eval).toHaveBeenCalledWith(
      expect.stringContaining("'SET', KEYS[1], ARGV[2], 'PX', ARGV[3]"),
      {
        keys: [KEY],
        arguments: [claimValueOf(client), JSON.stringify({ f: 'fp', b: { offset: 7 } }), String(TTL_MS)],
      },
    );
  });

  it('resolves when the answer cannot be stored after Kafka acknowledged: the failure is logged and counted', async () => {
    const { sut, client, metrics } = make();
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const claim = await claimed(sut);
    client.eval.mockRejectedValueOnce(new TimeoutReadError(500));

    await expect(claim.complete({ offset: 7 })).resolves.toBeUndefined();

    expect(await errorsCounted(metrics, 'complete')).toBe(1);
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('could not be stored (store unavailable)'));
    logged.mockRestore();
  });

  it('settles a claim once: a release after the answer was stored changes nothing', async () => {
    const { sut, client } = make();
    const claim = await claimed(sut);

    await claim.complete({ offset: 7 });
    await claim.release();

    expect(client.eval).toHaveBeenCalledTimes(1);
  });

  it('renews the lease every third of it while in flight, owner-checked, and stops once settled', async () => {
    jest.useFakeTimers();
    const { sut, client } = make();
    const claim = await claimed(sut);

    await jest.advanceTimersByTimeAsync(LEASE_MS);
    expect(client.eval).toHaveBeenCalledTimes(3);
    expect(client.eval).toHaveBeenLastCalledWith(expect.stringContaining("'PEXPIRE'"), {
      keys: [KEY],
      arguments: [claimValueOf(client), String(LEASE_MS)],
    });

    await claim.release();
    await jest.advanceTimersByTimeAsync(LEASE_MS);
    expect(client.eval).toHaveBeenCalledTimes(4);
  });

  it('shows the store in health by address, never with its credentials', async () => {
    const { sut, client } = make();
    client.ping.mockRejectedValueOnce(new ClientOfflineError());

    expect(await sut.health()).toEqual({
      status: 'DOWN',
      details: { store: 'redis', address: 'redis://redis.example:6380/2', error: expect.any(String) },
    });
    expect(await sut.health()).toEqual({
      status: 'UP',
      details: { store: 'redis', address: 'redis://redis.example:6380/2' },
    });
  });

  it('connects in the background at start-up and logs one line per outage, not one per reconnect attempt', () => {
    const { sut, client } = make();
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    sut.onApplicationBootstrap();
    client.emit('error', new Error('connect ECONNREFUSED'));
    client.emit('error', new Error('connect ECONNREFUSED'));
    client.emit('ready');
    client.emit('error', new Error('Socket closed unexpectedly'));

    expect(client.connect).toHaveBeenCalledTimes(1);
    expect(warned.mock.calls.map(([line]) => String(line))).toEqual([
      expect.stringContaining('connect ECONNREFUSED'),
      expect.stringContaining('Socket closed unexpectedly'),
    ]);
    warned.mockRestore();
  });
});
