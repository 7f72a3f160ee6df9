import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { onRefusal } from '../common/all-exceptions.filter';
import { ErrorCode, InvalidInputError, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { routeOf } from '../http/request-checks';
import { IDEMPOTENCY_STORE, IdempotencyStore } from '../idempotency/idempotency-store';
import { Metrics } from '../observability/metrics';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';

/** A key as the draft writes it (an sf-string: `"…"`), or bare; printable ASCII, 1–255 characters. */
const KEY = /^"?([\x21\x23-\x7e]{1,255})"?$/;

/**
 * What the preHandler hook hands the controller for one keyed request: `key` goes on the records, and
 * `settle` is called by ProducerService when the send is finally settled (also after the caller was
 * answered 503 KAFKA_OUTCOME_UNKNOWN): with the answer body when Kafka acknowledged, undefined when nothing
 * was written. Only then is the key stored (replayed) or freed (retryable). `stored` resolves once an
 * acknowledged answer is in the store (or storing it failed: logged and counted), so that a retry sent
 * after this request's 200 is replayed by whichever instance gets it.
 */
export interface IdempotentSend {
  key: string;
  settle(body: unknown): void;
  readonly stored: Promise<void>;
}

const SEND = Symbol('idempotentSend');
type WithSend = FastifyRequest & { [SEND]?: IdempotentSend };

/** The keyed send of this request, when it carries an Idempotency-Key (set by Idempotency's hook). */
export function idempotentSendOf(req: FastifyRequest): IdempotentSend | undefined {
  return (req as WithSend)[SEND];
}

/**
 * The `Idempotency-Key` request header on the produce endpoints (draft-ietf-httpapi-idempotency-key-header):
 * the first request with a key is processed; a repeat with the same key and request is answered with the
 * stored answer (same status and body, with `Idempotent-Replayed: true`) without producing again; a repeat
 * while the first is in flight gets 409; the same key with another body or query gets 422; a malformed key
 * 400. Only acknowledged sends are stored: a failure that certainly wrote nothing frees the key, and an
 * unknown outcome keeps the key in flight until the send settles, then stores or frees it. Keys live in the
 * IdempotencyStore (src/idempotency: this process's memory, or Redis shared by every instance); a store
 * that cannot claim the key refuses the request with 503 IDEMPOTENCY_STORE_UNAVAILABLE.
 *
 * A Fastify preHandler hook rather than a Nest interceptor: an interceptor puts an RxJS pipeline around
 * every produce request, keyed or not (a quarter of the CPU per request, measured), where this costs a
 * header lookup when there is no key. It runs after the body is parsed and before Nest's pipes and handler;
 * a refused request frees its key through the exception filter's onRefusal (which, unlike onResponse, also
 * runs when the client has gone).
 */
@Injectable()
export class Idempotency {
  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
  ) {}

  /** Applies to the routes whose template `applies` accepts (the router's, so every spelling agrees). */
  install(fastify: FastifyInstance, applies: (template: string | undefined) => boolean): void {
    if (!this.config.idempotency.enabled) {
      return;
    }
    fastify.addHook(
      'preHandler',
      (req: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
        if (req.headers[IDEMPOTENCY_KEY_HEADER] === undefined || !applies(routeOf(req).url)) {
          done();
          return;
        }
        this.preHandler(req, reply, done);
      },
    );
  }

  /** A keyed request: refused (done with the error), replayed (answered here: Fastify skips the handler), or let through. */
  preHandler(req: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    this.begin(req).then(
      (stored) => {
        if (stored === undefined) {
          done();
          return;
        }
        void reply.code(200).header(REPLAYED_HEADER, 'true').send(stored);
      },
      (error: Error) => done(error),
    );
  }

  /** Checks and claims the key; the stored answer for a replay, else undefined with req[SEND] set for the send. */
  private async begin(req: WithSend): Promise<unknown> {
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
    // Route templates hold no "|", so the first one ends the route.
    const scope = `${routeOf(req).url ?? ''}|${key}`;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify(req.body ?? null))
      .update('\n')
      .update(JSON.stringify(req.query ?? {}))
      .digest('base64');

    const result = await this.store.claim(scope, fingerprint);
    if (!result.claimed) {
      if (result.fingerprint !== fingerprint) {
        this.count('mismatch');
        throw new ServiceError(
          ErrorCode.IdempotencyKeyMismatch,
          'This Idempotency-Key was already used with a different request',
        );
      }
      if (result.body === undefined) {
        this.count('in_flight');
        throw new ServiceError(
          ErrorCode.IdempotencyKeyInUse,
          'A request with this Idempotency-Key is still being processed; retry after it is answered',
          { retryAfterSeconds: 1 },
        );
      }
      this.count('replayed');
      return result.body;
    }

    this.count('new');
    const { claim } = result;
    let stored!: () => void;
    let settled = false;
    const send: IdempotentSend = {
      key,
      stored: new Promise<void>((resolve) => (stored = resolve)),
      settle: (body) => {
        if (settled) {
          return;
        }
        settled = true;
        void (body === undefined ? claim.release() : claim.complete(body)).then(stored);
      },
    };
    req[SEND] = send;
    // A refused request frees its key, unless its outcome is unknown: ProducerService settles that one when
    // Kafka does (and a success was stored by it already; a claim settles once).
    onRefusal(req, (code) => {
      if (code !== ErrorCode.KafkaOutcomeUnknown) {
        send.settle(undefined);
      }
    });
    return undefined;
  }

  private count(outcome: 'new' | 'replayed' | 'in_flight' | 'mismatch'): void {
    this.metrics.idempotencyRequests.inc({ outcome });
  }
}
