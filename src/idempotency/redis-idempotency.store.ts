import { randomUUID } from 'node:crypto';
import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createClient, RedisClientType, TimeoutReadError } from '@redis/client';
import { ErrorCode, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import type { HealthComponent } from '../observability/health-indicator';
import { Metrics } from '../observability/metrics';
import { ClaimResult, IdempotencyStore, KeyClaim } from './idempotency-store';

type StoreConfig = NonNullable<AppConfig['idempotency']['store']>;
type Operation = 'claim' | 'complete' | 'release' | 'renew' | 'ping';

/** Compare-and-set on the claim's exact value (its owner token), so a late settle cannot touch another owner's key. */
const COMPLETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end return false`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/** What a key holds: the claim (fingerprint and owner token) while in flight, then the answer. */
interface Stored {
  f: string;
  o?: string;
  b?: unknown;
}

/** A node-redis client that fails fast: no offline queue, every command and connect bounded by `timeoutMs`. */
export function createStoreClient(config: StoreConfig): RedisClientType {
  return createClient({
    url: config.url,
    disableOfflineQueue: true,
    socket: {
      // rediss:// turns TLS on; a private CA is added to verify the server's certificate with.
      ...(config.ca && config.url.startsWith('rediss:') ? { tls: true as const, ca: config.ca } : {}),
      connectTimeout: config.timeoutMs,
      // Reconnect forever, at most every 2 s: the store coming back must not need a restart.
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
    },
    // rejectInFlight: a command already sent is given up at the bound too (the server may still run it).
    commandOptions: { timeout: config.timeoutMs, rejectInFlight: true },
  });
}

/**
 * Keys shared by every instance and worker through Redis or Valkey (IDEMPOTENCY_STORE_URL). A key is
 * `<prefix><route template>|<Idempotency-Key>`; the first request claims it with one `SET NX PX GET`
 * (Redis 7.0+), whose value holds the request's fingerprint and a random owner token, and whose expiry
 * is the lease. The owner renews the lease every third of it while its send is in flight, so only a dead
 * owner's claim expires (after at most the lease). Settling is a Lua compare-and-set on the claim's value:
 * the answer replaces it with the key's TTL, or the key is deleted.
 *
 * Bounded: no offline queue, and every command (claim included) is given up after IDEMPOTENCY_STORE_TIMEOUT_MS;
 * a claim that fails is 503 IDEMPOTENCY_STORE_UNAVAILABLE (nothing is sent), never a silent fallback.
 */
export class RedisIdempotencyStore
  implements IdempotencyStore, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(RedisIdempotencyStore.name);
  private readonly renewals = new Set<NodeJS.Timeout>();
  private readonly address: string;
  /** Until the first failure, so that a store down at start-up is logged once too. */
  private reachable = true;

  constructor(
    private readonly client: RedisClientType,
    private readonly config: StoreConfig,
    private readonly ttlMs: number,
    private readonly metrics: Metrics,
  ) {
    const url = new URL(config.url);
    // Never the credentials: host, port and database only.
    this.address = `${url.protocol}//${url.host}${url.pathname.length > 1 ? url.pathname : ''}`;
  }

  onApplicationBootstrap(): void {
    this.client.on('ready', () => {
      this.reachable = true;
      this.logger.log(`Idempotency-Key store connected: ${this.address}`);
    });
    // One line per outage, not one per reconnect attempt.
    this.client.on('error', (error: Error) => {
      if (this.reachable) {
        this.logger.warn(
          `Idempotency-Key store ${this.address} unreachable (keyed requests get 503 until it is back): ${error.message}`,
        );
      }
      this.reachable = false;
    });
    // Start-up does not wait for the store: keyed requests get 503 until it answers, the rest are served.
    this.client.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const timer of this.renewals) {
      clearInterval(timer);
    }
    this.renewals.clear();
    // close() waits for the commands in flight (each bounded), e.g. answers stored by the final flush; a
    // client that is not connected (the store is down) has nothing to wait for.
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }

  async claim(scope: string, fingerprint: string): Promise<ClaimResult> {
    const key = this.config.prefix + scope;
    const claimValue = JSON.stringify({ f: fingerprint, o: randomUUID() } satisfies Stored);
    let previous: string | null;
    try {
      previous = await this.run<string | null>('claim', () =>
        this.client.set(key, claimValue, {
          condition: 'NX',
          expiration: { type: 'PX', value: this.config.leaseMs },
          GET: true,
        }),
      );
    } catch (error) {
      if (error instanceof TimeoutReadError) {
        // The SET was sent and may still run once the server answers: take the claim back (if it is ours)
        // so the key is not blocked for a whole lease. Best effort: if the store is gone, the lease frees it.
        void this.ownerChecked('release', key, claimValue, RELEASE, []);
      }
      throw new ServiceError(
        ErrorCode.IdempotencyStoreUnavailable,
        `The Idempotency-Key store is unreachable or did not answer within ${this.config.timeoutMs} ms; the message was not sent`,
        { retryAfterSeconds: 1, cause: error },
      );
    }
    if (previous !== null) {
      const stored = JSON.parse(previous) as Stored;
      return { claimed: false, fingerprint: stored.f, body: stored.b };
    }
    return { claimed: true, claim: this.claimOf(key, claimValue, fingerprint) };
  }

  async health(): Promise<HealthComponent> {
    const details = { store: 'redis', address: this.address };
    try {
      await this.run('ping', () => this.client.ping());
      return { status: 'UP', details };
    } catch (error) {
      return { status: 'DOWN', details: { ...details, error: (error as Error).message } };
    }
  }

  private claimOf(key: string, claimValue: string, fingerprint: string): KeyClaim {
    const renewal = setInterval(() => {
      void this.ownerChecked('renew', key, claimValue, RENEW, [String(this.config.leaseMs)]).then((held) => {
        if (held === 0) {
          // Lost (the store was unreachable for a whole lease): another request may own the key now.
          this.logger.warn(`The in-flight claim of Idempotency-Key ${key} expired before its send settled`);
          stopRenewal();
        }
      });
    }, this.config.leaseMs / 3);
    renewal.unref();
    this.renewals.add(renewal);
    const stopRenewal = (): void => {
      clearInterval(renewal);
      this.renewals.delete(renewal);
    };
    let settled = false;
    /** True the first time only: a claim settles once. */
    const settle = (): boolean => {
      stopRenewal();
      const first = !settled;
      settled = true;
      return first;
    };
    return {
      complete: async (body) => {
        if (!settle()) {
          return;
        }
        const answer = JSON.stringify({ f: fingerprint, b: body } satisfies Stored);
        const stored = await this.ownerChecked('complete', key, claimValue, COMPLETE, [
          answer,
          String(this.ttlMs),
        ]);
        if (stored === undefined || stored === null) {
          // Kafka has the records and the caller gets its 200; only a retry with this key would publish again.
          this.logger.error(
            `Kafka acknowledged the request with Idempotency-Key ${key}, but its answer could not be stored (${stored === null ? 'the claim had expired' : 'store unavailable'}); a retry after the lease would be published again`,
          );
        }
      },
      release: async () => {
        if (settle()) {
          await this.ownerChecked('release', key, claimValue, RELEASE, []);
        }
      },
    };
  }

  /** Runs one owner-checked script; its reply, or undefined when the store failed (counted and timed). */
  private async ownerChecked(
    operation: Operation,
    key: string,
    claimValue: string,
    script: string,
    args: string[],
  ): Promise<unknown> {
    try {
      return await this.run(operation, () =>
        this.client.eval(script, { keys: [key], arguments: [claimValue, ...args] }),
      );
    } catch {
      return undefined;
    }
  }

  private async run<T>(operation: Operation, command: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const observe = (outcome: 'success' | 'error'): void =>
      this.metrics.idempotencyStoreTime.observe({ operation, outcome }, (performance.now() - start) / 1000);
    try {
      const reply = await command();
      observe('success');
      return reply;
    } catch (error) {
      observe('error');
      this.metrics.idempotencyStoreErrors.inc({ operation, error: (error as Error).constructor.name });
      throw error;
    }
  }
}
