import { Logger } from '@nestjs/common';
import { Message, PartitionMetadata, Producer, RecordMetadata } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { compressionType } from './compression';
import { classifyKafkaError, rejectsProducerState } from './kafka-errors';
import type { OutgoingRecord, SendTicket } from './record-sender';
import { SupervisedProducer } from './supervised-producer';

/** One partition's records of a send, as kafkajs messages (with explicit partitions) and as given. */
export interface PartitionBatch {
  messages: Message[];
  records: OutgoingRecord[];
}

/** Backoff between attempts of one partition's batch: 100 ms, doubling, at most 1 s. */
const RESEND_INITIAL_MS = 100;
const RESEND_MAX_MS = 1000;
/**
 * No attempt starts closer than this to the callers' deadline. One that outlives the deadline leaves its
 * callers with the deadline's answer ("outcome unknown"), which is what a failed attempt means anyway.
 */
const DEADLINE_RESERVE_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every partition has one replica, on the same broker: only that broker can ever lead them. */
function onOneBroker(partitions: PartitionMetadata[]): boolean {
  return new Set(partitions.flatMap((partition) => partition.replicas)).size === 1;
}

/**
 * Whether a failed produce attempt may have left its batch appended. kafkajs resends a failed produce
 * request itself (an idempotent producer must allow it at least once) and reports only its last attempt's
 * error, so an earlier attempt lost in flight (the connection closed after the broker appended, the
 * broker's answer timed out) hides behind a final `ECONNREFUSED` or `NOT_LEADER_OR_FOLLOWER`; and
 * `REQUEST_TIMED_OUT` or `NOT_ENOUGH_REPLICAS_AFTER_APPEND` come after the leader appended. Only a refusal
 * the broker gives every attempt of the same batch (too large, not authorized) or a rejected sequence or
 * epoch (the batch is not in the leader's log, else the broker would have answered it as a copy) says it
 * was not appended.
 */
function mayHaveAppended(failure: KafkaSendError): boolean {
  return (
    failure.kind !== KafkaFailureKind.RecordTooLarge &&
    failure.kind !== KafkaFailureKind.NotAuthorized &&
    failure.kind !== KafkaFailureKind.AuthenticationFailed &&
    !rejectsProducerState(failure)
  );
}

function markTickets(records: OutgoingRecord[], change: Partial<SendTicket>): void {
  for (const record of records) {
    if (record.ticket) {
      Object.assign(record.ticket, change);
    }
  }
}

/**
 * The idempotent producer's retry, without duplicates, as the Java producer does it: a partition's batch
 * whose request failed is sent again unchanged (same records, same producer id and sequence numbers,
 * which kafkajs rolls back on a failed request), so a broker that already appended it (before a timeout,
 * a dropped connection, or on the old leader before a leader change) recognises the copy and answers with
 * the first offset. That goes on until the callers' deadline; the caller runs one send at a time, so
 * nothing else takes those sequence numbers meanwhile. One batch per partition and request (unless only
 * one broker can lead the topic), because kafkajs fails and rolls back a whole request on one partition's
 * error, and can answer for part of a request that went to several brokers. The producer is rebuilt (a
 * new producer id, as the Java client bumps its epoch) only when the broker rejects its sequence or
 * epoch, or before the next send after a batch was given up with its outcome unknown; a rejected batch is
 * then sent once more on the new producer (it was not appended), an unknown one is never sent again.
 */
export class BatchResender {
  private readonly logger = new Logger(BatchResender.name);
  /** Why the producer must get a new producer id before its next send (a batch's outcome is unknown). */
  private outOfStep?: string;

  constructor(
    private readonly producer: SupervisedProducer,
    private readonly config: AppConfig,
  ) {}

  /** The reason to rebuild the producer before the next send, if there is one (and forgets it). */
  takeOutOfStep(): string | undefined {
    const reason = this.outOfStep;
    this.outOfStep = undefined;
    return reason;
  }

  /** Sends every partition's batch; resolves with each partition's metadata or the error it ended with. */
  async sendAll(
    topic: string,
    partitions: PartitionMetadata[],
    batches: Map<number, PartitionBatch>,
    deadline: number,
  ): Promise<Map<number, RecordMetadata | KafkaSendError>> {
    const results = new Map<number, RecordMetadata | KafkaSendError>();
    let pending = [...batches.keys()];
    let lostInFlight = false;
    for (let round = 0; pending.length > 0; round += 1) {
      let producer: Producer;
      try {
        producer = await this.producer.get();
      } catch (error) {
        const failure = classifyKafkaError(error);
        pending.forEach((partition) => results.set(partition, failure));
        break;
      }
      if (round === 0 && pending.length > 1 && onOneBroker(partitions)) {
        const together = await this.sendTogether(producer, topic, [...batches.values()]);
        if (together instanceof KafkaSendError) {
          lostInFlight = mayHaveAppended(together);
        } else {
          together.forEach((ack) => results.set(ack.partition, ack));
          pending = pending.filter((partition) => !results.has(partition));
          if (pending.length === 0) {
            break;
          }
        }
      }
      const outcomes = await Promise.all(
        pending.map((partition) =>
          this.sendPartition(producer, topic, partition, batches.get(partition)!, deadline, lostInFlight),
        ),
      );
      pending.forEach((partition, i) => results.set(partition, outcomes[i]!));
      const rejected = pending.filter((partition, i) => {
        const outcome = outcomes[i];
        return outcome instanceof KafkaSendError && rejectsProducerState(outcome) && outcome.brokerAnswered;
      });
      if (rejected.length === 0) {
        break;
      }
      // The broker refused the producer's sequence or epoch for these batches, as a whole: they were not
      // appended, so after a rebuild (a new producer id) they go out once more.
      const errorClass = (results.get(rejected[0]!) as KafkaSendError).errorClass;
      await this.producer.replace(`the broker rejected the producer's state (${errorClass})`);
      pending = round === 0 && Date.now() < deadline - DEADLINE_RESERVE_MS ? rejected : [];
    }
    return results;
  }

  /**
   * One produce request with every partition's batch, for a topic whose partitions all live on one broker
   * (no other broker can lead them, so kafkajs cannot split the request and answer for part of it): when
   * it fails, kafkajs has rolled back every partition's sequence, and each batch is resent alone, unchanged.
   */
  private async sendTogether(
    producer: Producer,
    topic: string,
    batches: PartitionBatch[],
  ): Promise<RecordMetadata[] | KafkaSendError> {
    const records = batches.flatMap((batch) => batch.records);
    try {
      return await this.produce(
        producer,
        topic,
        batches.flatMap((batch) => batch.messages),
        records,
      );
    } catch (error) {
      const failure = classifyKafkaError(error);
      markTickets(records, mayHaveAppended(failure) ? { maybeWritten: true } : { handedOver: false });
      return failure;
    }
  }

  /**
   * Sends one partition's batch until the broker acknowledges it, refuses it for good, or the deadline
   * nears; each attempt is the same batch, so the broker drops a copy it already has.
   */
  private async sendPartition(
    producer: Producer,
    topic: string,
    partition: number,
    batch: PartitionBatch,
    deadline: number,
    lostInFlight: boolean,
  ): Promise<RecordMetadata | KafkaSendError> {
    let delay = RESEND_INITIAL_MS;
    let maybeWritten = lostInFlight;
    for (let attempt = 1; ; attempt += 1) {
      let failure: KafkaSendError;
      try {
        const metadata = await this.produce(producer, topic, batch.messages, batch.records);
        const ack = metadata.find((m) => m.partition === partition);
        if (ack) {
          return ack;
        }
        failure = new KafkaSendError(
          KafkaFailureKind.Retriable,
          `the broker acknowledged no offset for ${topic}-${partition}`,
          'MissingAck',
        );
      } catch (error) {
        failure = classifyKafkaError(error);
      }
      if (mayHaveAppended(failure)) {
        maybeWritten = true;
      }
      // Between attempts the records are in no request: unless one may have been appended, a caller
      // answered now is told they were not sent.
      markTickets(batch.records, maybeWritten ? { maybeWritten: true } : { handedOver: false });
      const callersGone = batch.records.every((record) => record.ticket?.cancelled);
      if (
        failure.kind !== KafkaFailureKind.Retriable ||
        rejectsProducerState(failure) ||
        (callersGone && !maybeWritten) ||
        // Another attempt while it can start before the deadline: one that took long (the new leader
        // waiting for a dead replica still in the ISR) says nothing about how long the next one takes.
        Date.now() + delay >= deadline - DEADLINE_RESERVE_MS
      ) {
        if (maybeWritten) {
          // Given up with the outcome unknown: kafkajs rolled the sequence back, and the broker may hold
          // the batch; a new producer id before the next send keeps the two from disagreeing.
          this.outOfStep = `a batch for ${topic}-${partition} was given up with its outcome unknown`;
          return new KafkaSendError(failure.kind, failure.message, failure.errorClass, failure, false, false);
        }
        return failure;
      }
      this.logger.warn(
        `send to ${topic}-${partition} failed (attempt ${attempt}: ${failure.message}); sending the same batch again in ${delay} ms`,
      );
      await sleep(delay);
      delay = Math.min(delay * 2, RESEND_MAX_MS);
    }
  }

  /** One produce request (acks=all, the configured codec) carrying `records`, counted as their attempt. */
  private produce(
    producer: Producer,
    topic: string,
    messages: Message[],
    records: OutgoingRecord[],
  ): Promise<RecordMetadata[]> {
    for (const record of records) {
      if (record.ticket) {
        record.ticket.handedOver = true;
        record.ticket.attempts += 1;
      }
    }
    return producer.sendBatch({
      topicMessages: [{ topic, messages }],
      acks: -1,
      timeout: this.ackTimeoutMs,
      compression: compressionType(this.config.producer.compression),
    });
  }

  /**
   * The broker waits this long for the in-sync replicas (acks=all) before it answers REQUEST_TIMED_OUT: a
   * quarter of the send deadline, so a batch held up by a dead replica still in the ISR (until the
   * controller fences its node) goes out again, unchanged, more than once within the deadline.
   */
  private get ackTimeoutMs(): number {
    return Math.min(this.config.kafka.requestTimeoutMs, Math.ceil(this.config.http.sendTimeoutMs / 4));
  }
}
