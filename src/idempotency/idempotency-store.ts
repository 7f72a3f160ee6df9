import type { HealthComponent } from '../observability/health-indicator';

/** The store of Idempotency-Keys chosen by IdempotencyStoreModule: in memory, or shared through Redis. */
export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');

/**
 * What a request holds after claiming a key: settled exactly once, by the first of `complete` (Kafka
 * acknowledged: the answer is stored for replay until the key's TTL) or `release` (nothing was written:
 * the key is free again). Both are owner-checked: a claim that lost its key (its lease ran out) changes
 * nothing. Neither rejects: a store failure here is logged and counted by the store, and the caller's
 * answer stands.
 */
export interface KeyClaim {
  complete(body: unknown): Promise<void>;
  release(): Promise<void>;
}

/** The outcome of trying to claim a key: claimed by this request, or already known (answered or in flight). */
export type ClaimResult =
  | { claimed: true; claim: KeyClaim }
  | {
      claimed: false;
      /** Of the request that claimed the key first (body and query). */
      fingerprint: string;
      /** The stored answer; undefined while the first request is in flight. */
      body?: unknown;
    };

/**
 * Where Idempotency-Keys live. `scope` is the route template and the key; `claim` is atomic: of concurrent
 * claims of one scope (from any instance sharing the store), exactly one gets it. `claim` rejects with
 * ServiceError IDEMPOTENCY_STORE_UNAVAILABLE when the store cannot answer within its bound.
 */
export interface IdempotencyStore {
  claim(scope: string, fingerprint: string): Promise<ClaimResult>;
  /** The store's /actuator/health component (`idempotencyStore`); absent for the in-memory store. */
  health?(): Promise<HealthComponent>;
}
