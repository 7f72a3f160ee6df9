import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { rejectsProducerState } from './kafka-errors';

/**
 * When a record is retried, resent or given up, and what its caller is told: the whole policy, in one
 * place, as the Java producer has it (delivery.timeout.ms, retries of an unchanged batch, epoch bumps).
 *
 * - **One deadline.** Every record has SEND_TIMEOUT_MS from the moment it is handed to the publisher. At
 *   the deadline its caller is answered: `not-sent` if the record was never in a produce request,
 *   `unknown` if one carrying it was sent and not answered.
 * - **Before a produce request** (no connection to Kafka, no metadata for the topic): the service tries
 *   again itself, as the Spring original's @Retryable does: KAFKA_PRODUCER_RETRY_ATTEMPTS attempts (3),
 *   KAFKA_PRODUCER_RETRY_BACKOFF_MS (1 s) between them, ×KAFKA_PRODUCER_RETRY_MULTIPLIER (2); then
 *   `not-sent`. A partition without a leader is not a failure: its records wait for one (metadata is asked
 *   again every RESEND backoff) until their deadline, and other partitions are not held up.
 * - **A topic that existed answered "unknown"** (a broker just restarted, the topic being recreated), as
 *   long as the metadata cache still knows it (partition-resolver.ts, 30 s at most): not final. Its
 *   records wait as for a leader (their batch goes again unchanged, 100 ms apart, doubling, at most 1 s,
 *   until the deadline; then `not-sent`), and a transaction is run again as before a produce request.
 * - **After a produce request** failed, by what the failure says:
 *   - `refused`: the broker refused the batch for good (too large, invalid, not authorized). Nothing was
 *     appended. A batch of several records is split and each record sent alone, so only the bad one fails.
 *   - `producer-rejected`: the broker refused the producer's sequence number or epoch. Nothing was
 *     appended; the producer is rebuilt (a new producer id, as the Java client bumps its epoch) and the
 *     batch is sent once more on it.
 *   - `maybe-appended`: anything else (timeout, lost connection, leader change, not enough replicas, no
 *     answer within requestTimeoutMs, after which kafkajs drops that node): the broker may hold the
 *     batch. It is resent **unchanged** (same producer id, same sequence numbers, which kafkajs rolls back
 *     on a failed request), so a broker that already appended it answers with the first offset instead of
 *     writing it twice; 100 ms between resends, doubling, at most 1 s, as long as an attempt can start
 *     RESEND_RESERVE_MS before the deadline. Given up, the batch's outcome is unknown and the producer is
 *     rebuilt before anything else is sent on it (its sequence numbers may disagree with the broker's).
 *   kafkajs resends a failed request once by itself (an idempotent kafkajs producer must allow one retry),
 *   unchanged, before the service sees the failure: a failed request is therefore taken to cover both, and
 *   only a refusal every attempt gets (above) counts as "not appended".
 * - **Transactions** (batches): an aborted transaction is invisible to read_committed readers, so one that
 *   failed before its commit is run again, whole, with the pre-request backoff and attempts above; a
 *   commit whose answer was lost leaves the outcome `unknown` and is never run again.
 */

/** What a failed produce request tells about its batch. */
export type FailureVerdict = 'refused' | 'producer-rejected' | 'maybe-appended' | 'topic-unknown-now';

/** `topicKnown`: the metadata cache still knows the batch's topic (see above). */
export function verdictOf(failure: KafkaSendError, topicKnown: boolean): FailureVerdict {
  if (rejectsProducerState(failure) && failure.brokerAnswered) {
    return 'producer-rejected';
  }
  switch (failure.kind) {
    case KafkaFailureKind.UnknownTopic:
      return topicKnown ? 'topic-unknown-now' : 'refused';
    case KafkaFailureKind.RecordTooLarge:
    case KafkaFailureKind.NotAuthorized:
    case KafkaFailureKind.AuthenticationFailed:
    case KafkaFailureKind.Fatal:
      return 'refused';
    default:
      return 'maybe-appended';
  }
}

/** A refused batch of several records is sent again record by record when the refusal may be one record's. */
export function splitsOnRefusal(failure: KafkaSendError): boolean {
  return failure.kind === KafkaFailureKind.RecordTooLarge || failure.kind === KafkaFailureKind.Fatal;
}

/**
 * Failures before a produce request (or of a transaction) that are worth another attempt: not an ACL, nor a
 * missing topic unless the metadata cache still knows it (`topicKnown`).
 */
export function retriableBeforeRequest(failure: KafkaSendError, topicKnown: boolean): boolean {
  return (
    failure.kind === KafkaFailureKind.Retriable ||
    failure.kind === KafkaFailureKind.Unreachable ||
    (failure.kind === KafkaFailureKind.UnknownTopic && topicKnown)
  );
}

/** What the caller of a record is told when its topic stayed "unknown" until the deadline: not sent. */
export function unknownUntilDeadline(failure: KafkaSendError, topic: string): KafkaSendError {
  return new KafkaSendError(
    KafkaFailureKind.Retriable,
    `topic ${topic} was unknown to Kafka until the send deadline, though it existed: ${failure.message}`,
    failure.errorClass,
    failure,
  );
}

/** The wait between attempts (setTimeout, so Jest's fake timers drive it; node:timers/promises is not). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How much later than the broker's own acks timeout its answer may come (queueing, a GC pause). */
const ANSWER_SLACK_MS = 1000;

const RESEND_INITIAL_MS = 100;
const RESEND_MAX_MS = 1000;
/**
 * No resend starts closer than this to the deadline: one that outlives the deadline leaves its callers
 * with the deadline's answer (`unknown`), which is what a failed attempt means anyway.
 */
const RESEND_RESERVE_MS = 500;

export class SendPolicy {
  constructor(private readonly config: AppConfig) {}

  /** SEND_TIMEOUT_MS: how long a caller waits for a record's outcome. */
  get deadlineMs(): number {
    return this.config.http.sendTimeoutMs;
  }

  /**
   * The broker waits this long for the in-sync replicas (acks=all) before it answers REQUEST_TIMED_OUT: a
   * quarter of the deadline, so a batch held up by a dead replica still in the ISR (until the controller
   * fences its node) is resent, unchanged, more than once within the deadline.
   */
  get ackTimeoutMs(): number {
    return Math.min(this.config.kafka.requestTimeoutMs, Math.ceil(this.deadlineMs / 4));
  }

  /**
   * A request of the producers (or of the admin) unanswered this long is given up (their kafkajs
   * client's request timeout; the transaction coordinator's requests wait longer, patches/): the broker
   * answers a produce request within ackTimeoutMs, so silence beyond it and ANSWER_SLACK_MS means a
   * frozen or cut-off node. Its batch counts as `maybe-appended`, and kafkajs drops that node and asks
   * another for metadata (patches/), as the Java client's NetworkClient disconnects a node at its request
   * timeout: a partition whose leader froze reaches the new leader once the controller has moved it, not
   * when the frozen node comes back.
   */
  get requestTimeoutMs(): number {
    return this.ackTimeoutMs + ANSWER_SLACK_MS;
  }

  /** Delay before resend number `resend` (1, 2, …) of an unchanged batch, or of a metadata look-up. */
  resendDelayMs(resend: number): number {
    return Math.min(RESEND_INITIAL_MS * 2 ** (resend - 1), RESEND_MAX_MS);
  }

  /** Whether an attempt may start after `delayMs` for a batch whose callers' deadline is `deadline`. */
  mayResend(delayMs: number, deadline: number): boolean {
    return Date.now() + delayMs < deadline - RESEND_RESERVE_MS;
  }

  /**
   * The delay before another pre-request attempt after `failures` failed ones, or undefined when the
   * record has had its attempts (the Spring original's 3, 1 s then 2 s apart) or the deadline is too near.
   */
  retryBeforeRequestMs(failures: number, deadline: number): number | undefined {
    const { attempts, initialBackoffMs, multiplier } = this.config.producer.retry;
    if (failures >= attempts) {
      return undefined;
    }
    const delay = Math.round(initialBackoffMs * multiplier ** (failures - 1));
    return Date.now() + delay < deadline ? delay : undefined;
  }
}
