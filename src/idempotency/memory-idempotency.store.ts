import { AppConfig } from '../config/app-config';
import { Metrics } from '../observability/metrics';
import { ClaimResult, IdempotencyStore } from './idempotency-store';

interface Entry {
  fingerprint: string;
  /** The answer body once there is one; undefined while the first request is in flight. */
  body?: unknown;
  bytes: number;
  expiresAt: number;
}

/**
 * Keys in this process's memory (the default, without IDEMPOTENCY_STORE_URL): bounded in count and bytes,
 * least recently used first out (answered ones only: an in-flight key is never evicted, and dies with the
 * process that holds it). Expired keys are dropped on use.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly config: AppConfig['idempotency'],
    private readonly metrics: Metrics,
  ) {}

  claim(scope: string, fingerprint: string): Promise<ClaimResult> {
    const known = this.get(scope);
    if (known) {
      return Promise.resolve({ claimed: false, fingerprint: known.fingerprint, body: known.body });
    }
    const entry: Entry = { fingerprint, bytes: scope.length + 64, expiresAt: Infinity };
    this.entries.set(scope, entry);
    this.bytes += entry.bytes;
    this.evict();
    this.metrics.idempotencyKeys.set(this.entries.size);
    return Promise.resolve({
      claimed: true,
      claim: {
        complete: (body) => {
          this.complete(scope, entry, body);
          return Promise.resolve();
        },
        release: () => {
          this.delete(scope, entry);
          return Promise.resolve();
        },
      },
    });
  }

  private get(scope: string): Entry | undefined {
    const entry = this.entries.get(scope);
    if (!entry) {
      return undefined;
    }
    if (entry.body !== undefined && entry.expiresAt <= Date.now()) {
      this.delete(scope, entry);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(scope);
    this.entries.set(scope, entry);
    return entry;
  }

  /** Stores the answer of this very entry (a later request with the key may have replaced it). */
  private complete(scope: string, entry: Entry, body: unknown): void {
    if (this.entries.get(scope) !== entry || entry.body !== undefined) {
      return;
    }
    const size = JSON.stringify(body).length;
    entry.body = body;
    entry.expiresAt = Date.now() + this.config.ttlMs;
    entry.bytes += size;
    this.bytes += size;
    this.evict();
    this.metrics.idempotencyKeys.set(this.entries.size);
  }

  private delete(scope: string, entry: Entry): void {
    if (this.entries.get(scope) === entry) {
      this.entries.delete(scope);
      this.bytes -= entry.bytes;
      this.metrics.idempotencyKeys.set(this.entries.size);
    }
  }

  private evict(): void {
    for (const [scope, entry] of this.entries) {
      if (this.entries.size <= this.config.maxKeys && this.bytes <= this.config.maxBytes) {
        return;
      }
      if (entry.body !== undefined) {
        this.delete(scope, entry);
      }
    }
  }
}
