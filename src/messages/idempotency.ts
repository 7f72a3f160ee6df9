import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { onRefusal } from '../common/all-exceptions.filter';
import { ErrorCode, InvalidInputError, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../observability/metrics';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';

/** A key as the draft writes it (an sf-string: `"…"`), or bare; printable ASCII, 1–255 characters. */
const KEY = /^"?([\x21\x23-\x7e]{1,255})"?$/;

interface Entry {
  fingerprint: string;
  /** The answer body once there is one; undefined while the first request is in flight. */
  body?: unknown;
  bytes: number;
  expiresAt: number;
}

/**
 * What the preHandler hook hands the controller for one keyed request: `key` goes on the records, and
 * `settle` is called by ProducerService when the send is finally settled (also after the caller was
 * answered 503 KAFKA_OUTCOME_UNKNOWN): with the answer body when Kafka acknowledged, undefined when nothing
 * was written. Only then is the key stored (replayed) or freed (retryable).
 */
export interface IdempotentSend {
  key: string;
  settle(body: unknown): void;
}

const SEND = Symbol('idempotentSend');
type WithSend = FastifyRequest & { [SEND]?: IdempotentSend };

/** The keyed send of this request, when it carries an Idempotency-Key (set by Idempotency's hook). */
export function idempotentSendOf(req: FastifyRequest): IdempotentSend | undefined {
  return (req as WithSend)[SEND];
}

/**
 * Remembered keys, in memory, bounded in count and bytes, least recently used first out (answered ones
 * only: an in-flight key is never evicted). A key is scoped to its route; expired keys are dropped on use.
 */
class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly config: AppConfig['idempotency']) {}

  get size(): number {
    return this.entries.size;
  }

  get(scope: string): Entry | undefined {
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

  begin(scope: string, fingerprint: string): Entry {
    const entry: Entry = { fingerprint, bytes: scope.length + 64, expiresAt: Infinity };
    this.entries.set(scope, entry);
    this.bytes += entry.bytes;
    this.evict();
    return entry;
  }

  /** Stores the answer of this very entry (a later request with the key may have replaced it). */
  complete(scope: string, entry: Entry, body: unknown): void {
    if (this.entries.get(scope) !== entry || entry.body !== undefined) {
      return;
    }
    const size = JSON.stringify(body).length;
    entry.body = body;
    entry.expiresAt = Date.now() + this.config.ttlMs;
    entry.bytes += size;
    this.bytes += size;
    this.evict();
  }

  delete(scope: string, entry: Entry): void {
    if (this.entries.get(scope) === entry) {
      this.entries.delete(scope);
      this.bytes -= entry.bytes;
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

/**
 * The `Idempotency-Key` request header on the produce endpoints (draft-ietf-httpapi-idempotency-key-header):
 * the first request with a key is processed; a repeat with the same key and request is answered with the
 * stored answer (same status and body, with `Idempotent-Replayed: true`) without producing again; a repeat
 * while the first is in flight gets 409; the same key with another body or query gets 422; a malformed key
 * 400. Only acknowledged sends are stored: a failure that certainly wrote nothing frees the key, and an
 * unknown outcome keeps the key in flight until the send settles, then stores or frees it.
 *
 * A Fastify preHandler hook rather than a Nest interceptor: an interceptor puts an RxJS pipeline around
 * every produce request, keyed or not (a quarter of the CPU per request, measured), where this costs a
 * header lookup when there is no key. It runs after the body is parsed and before Nest's pipes and handler;
 * a refused request frees its key through the exception filter's onRefusal (which, unlike onResponse, also
 * runs when the client has gone).
 */
@Injectable()
export class Idempotency {
  private readonly store: IdempotencyStore;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.store = new IdempotencyStore(config.idempotency);
  }

  /** Applies to the routes whose template `applies` accepts (the router's, so every spelling agrees). */
  install(fastify: FastifyInstance, applies: (template: string | undefined) => boolean): void {
    if (!this.config.idempotency.enabled) {
      return;
    }
    fastify.addHook(
      'preHandler',
      (req: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
        if (req.headers[IDEMPOTENCY_KEY_HEADER] === undefined || !applies(req.routeOptions.url)) {
          done();
          return;
        }
        this.preHandler(req, reply, done);
      },
    );
  }

  /** A keyed request: refused (done with the error), replayed (answered here: Fastify skips the handler), or let through. */
  preHandler(req: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    let stored: unknown;
    try {
      stored = this.begin(req);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (stored === undefined) {
      done();
      return;
    }
    void reply.code(200).header(REPLAYED_HEADER, 'true').send(stored);
  }

  /** Checks the key; the stored answer for a replay, else undefined with req[SEND] set for the send. */
  private begin(req: WithSend): unknown {
    const header = req.headers[IDEMPOTENCY_KEY_HEADER];
    const key = typeof header === 'string' ? KEY.exec(header)?.[1] : undefined;
    if (key === undefined) {
      throw new InvalidInputError(
        [
          {
            field: 'Idempotency-Key',
            reason: 'must be 1 to 255 printable ASCII characters, optionally in quotes',
          },
        ],
        'Invalid header',
      );
    }
    const scope = `${req.routeOptions.url ?? ''}\n${key}`;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify(req.body ?? null))
      .update('\n')
      .update(JSON.stringify(req.query ?? {}))
      .digest('base64');

    const known = this.store.get(scope);
    if (known) {
      if (known.fingerprint !== fingerprint) {
        this.count('mismatch');
        throw new ServiceError(
          ErrorCode.IdempotencyKeyMismatch,
          'This Idempotency-Key was already used with a different request',
        );
      }
      if (known.body === undefined) {
        this.count('in_flight');
        throw new ServiceError(
          ErrorCode.IdempotencyKeyInUse,
          'A request with this Idempotency-Key is still being processed; retry after it is answered',
          { retryAfterSeconds: 1 },
        );
      }
      this.count('replayed');
      return known.body;
    }

    this.count('new');
    const entry = this.store.begin(scope, fingerprint);
    this.metrics.idempotencyKeys.set(this.store.size);
    const settle = (body: unknown): void => {
      if (body === undefined) {
        this.store.delete(scope, entry);
      } else {
        this.store.complete(scope, entry, body);
      }
      this.metrics.idempotencyKeys.set(this.store.size);
    };
    req[SEND] = { key, settle };
    // A refused request frees its key, unless its outcome is unknown: ProducerService settles that one when
    // Kafka does (and a success was stored by it already).
    onRefusal(req, (code) => {
      if (code !== ErrorCode.KafkaOutcomeUnknown) {
        settle(undefined);
      }
    });
    return undefined;
  }

  private count(outcome: 'new' | 'replayed' | 'in_flight' | 'mismatch'): void {
    this.metrics.idempotencyRequests.inc({ outcome });
  }
}
