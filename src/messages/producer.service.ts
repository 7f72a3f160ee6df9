import { Injectable } from '@nestjs/common';
import { ErrorCode, KafkaFailureKind, KafkaSendError, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { KafkaPublisher } from '../kafka/kafka-publisher';
import { estimatedRecordBytes, OutgoingRecord, RecordAck, SendOutcome } from '../kafka/records';
import { Metrics } from '../observability/metrics';
import { MessageDto } from './dto/message.dto';
import { DeliveryDto } from './dto/send-result.dto';
import { completeMessage, Message, serializeMessage } from './message';
import { Attributes, Context, ROOT_CONTEXT, Span } from '@opentelemetry/api';
import { endSpan, NO_SPAN, SpanKind, startSpan, traceHeaders, tracingOn } from '../observability/tracing';

/**
 * One record's identity within keyed requests, as an RFC 8941 item: the key (an sf-string), the route and
 * the record's place in its request, e.g. `"order-42";route="/api/messages/batch";index=2`. A retry of the
 * request gives each record the same one, and no two records of other requests share it.
 */
function idempotencyId({ key, route }: { key: string; route: string }, index: number): string {
  const sfString = (value: string): string => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `${sfString(key)};route=${sfString(route)};index=${index}`;
}

/** The one delivery of a single-record send. */
const onlyOne = (deliveries: DeliveryDto[]): DeliveryDto => deliveries[0]!;

/** Outside any trace with the SDK off: no span, no headers. */
const NO_TRACE = { span: NO_SPAN, headers: {} };

/**
 * One record to publish, before the send path adds its own headers (trace context, request id,
 * Idempotency-Key): what a Message or a CloudEvent becomes.
 */
export interface Publication {
  /** The message or event id: the answer's messageId, and the span's messaging.message.id. */
  id: string;
  /** The `type` label of messages_sent_total and messages_failed_total. */
  type: string;
  topic: string;
  key: string;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface SendOptions {
  /** Record key; the message id when absent. */
  key?: string;
  requestId?: string;
  /** The trace the send belongs to (the HTTP request's); its publish span is a child of it. */
  traceContext?: Context;
  /**
   * The request's Idempotency-Key and the route it came to: every record carries the key as the
   * `idempotency-key` header and its own identity (key, route, place in the request) as `idempotency-id`.
   */
  idempotency?: { key: string; route: string };
  /**
   * Called once Kafka settled the send, even after the caller was answered at the deadline: with the
   * deliveries when the broker acknowledged, undefined when nothing was written.
   */
  onSettled?: (deliveries: DeliveryDto[] | undefined) => void;
}

/**
 * The Spring original's KafkaProducerService: completes and serializes Messages, checks their size, and
 * hands them to KafkaPublisher (the Kafka port), one record at a time or a batch in one transaction. It
 * answers from the outcome the port gives back: the deliveries when the broker acknowledged, else the
 * service error that says whether the message was certainly not written or may have been. When to retry,
 * resend or give up is the port's (src/kafka/send-policy.ts); this class only bounds how many sends are in
 * flight and counts what happened.
 */
@Injectable()
export class ProducerService {
  private inFlight = 0;

  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.zeroCounters();
  }

  /**
   * The sent and failed counters exist from start-up at 0 for every message type, as the seed's
   * Micrometer counters do, so rate() and increase() see a series before the first failure.
   */
  private zeroCounters(): void {
    for (const type of this.config.message.types) {
      this.metrics.messagesSent.inc({ topic: this.topic, type }, 0);
      this.metrics.messagesFailed.inc({ topic: this.topic, type, error: '' }, 0);
    }
  }

  get topic(): string {
    return this.config.topics.messages.name;
  }

  async send(dto: MessageDto, options: SendOptions = {}): Promise<DeliveryDto> {
    return await this.publish(this.publicationOf(completeMessage(dto), options), options);
  }

  /** All messages in one Kafka transaction: every one is visible to read_committed consumers, or none. */
  async sendBatch(dtos: MessageDto[], options: SendOptions = {}): Promise<DeliveryDto[]> {
    const now = new Date().toISOString();
    return await this.publishAtomically(
      dtos.map((dto) => this.publicationOf(completeMessage(dto, now), options)),
      options,
    );
  }

  /** Sends one record (acks=all, idempotent); resolves once the broker acknowledged it. */
  publish(publication: Publication, options: SendOptions = {}): Promise<DeliveryDto> {
    return this.tracked([publication], options, (records) => this.publisher.send(records)).then(onlyOne);
  }

  /** Sends the records in one Kafka transaction (one topic or several): all are visible, or none. */
  async publishAtomically(publications: Publication[], options: SendOptions = {}): Promise<DeliveryDto[]> {
    return await this.tracked(publications, options, (records) => this.publisher.sendAtomically(records));
  }

  /** A Message as the record the seed writes: its JSON, keyed by `key` or its id, to the messages topic. */
  private publicationOf(message: Message, options: SendOptions): Publication {
    return {
      id: message.id,
      type: message.type,
      topic: this.topic,
      key: options.key ?? message.id,
      value: serializeMessage(message),
      headers: { 'content-type': 'application/json', 'message-type': message.type },
    };
  }

  /**
   * The producer span of a send (OpenTelemetry messaging conventions), a child of the request's trace, and
   * the W3C headers (`traceparent`, `tracestate`) that carry it on every record.
   */
  private publishSpan(
    publications: Publication[],
    options: SendOptions,
  ): { span: Span; headers: Record<string, string> } {
    if (!options.traceContext && !tracingOn()) {
      return NO_TRACE;
    }
    const topic = publications[0]!.topic;
    const attributes: Attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': topic,
    };
    if (publications.length === 1) {
      attributes['messaging.message.id'] = publications[0]!.id;
    } else {
      attributes['messaging.batch.message_count'] = publications.length;
    }
    const { span, context } = startSpan(
      `send ${topic}`,
      SpanKind.PRODUCER,
      options.traceContext ?? ROOT_CONTEXT,
      attributes,
    );
    return { span, headers: traceHeaders(context) };
  }

  private toRecord(
    publication: Publication,
    options: SendOptions,
    traceContextHeaders: Record<string, string>,
    index: number,
  ): OutgoingRecord {
    const headers: Record<string, string> = { ...publication.headers, ...traceContextHeaders };
    if (options.requestId) {
      headers['x-request-id'] = options.requestId;
    }
    if (options.idempotency) {
      headers['idempotency-key'] = options.idempotency.key;
      headers['idempotency-id'] = idempotencyId(options.idempotency, index);
    }
    const record: OutgoingRecord = {
      topic: publication.topic,
      key: publication.key,
      value: publication.value,
      headers,
      timestamp: Date.now(),
    };
    const size = estimatedRecordBytes(record);
    if (size > this.config.producer.maxRecordBytes) {
      throw new ServiceError(
        ErrorCode.PayloadTooLarge,
        `${publication.id} is ${size} bytes as a Kafka record; the limit is ${this.config.producer.maxRecordBytes}`,
      );
    }
    return record;
  }

  /**
   * Bounds in-flight sends, records metrics and the span, and turns the port's outcomes into the answer:
   * the deliveries, or the service error of the first record that was not acknowledged. `onSettled` hears
   * the final word, also when the caller was answered "outcome unknown" and the broker answered later.
   */
  private async tracked(
    publications: Publication[],
    options: SendOptions,
    send: (records: OutgoingRecord[]) => Promise<SendOutcome[]>,
  ): Promise<DeliveryDto[]> {
    if (this.inFlight + publications.length > this.config.http.maxInFlightSends) {
      throw new ServiceError(ErrorCode.Overloaded, 'Too many sends in flight; retry shortly', {
        retryAfterSeconds: 1,
      });
    }
    const trace = this.publishSpan(publications, options);
    let records: OutgoingRecord[];
    try {
      records = publications.map((publication, i) => this.toRecord(publication, options, trace.headers, i));
    } catch (error) {
      endSpan(trace.span, error);
      throw error;
    }
    const topic = publications[0]!.topic;
    // In-flight counts what Kafka still holds: it drops when the send settles, not when the caller gives up.
    this.inFlight += publications.length;
    this.metrics.inFlightSends.set(this.inFlight);
    const settled = (): void => {
      this.inFlight -= publications.length;
      this.metrics.inFlightSends.set(this.inFlight);
    };
    const stopTimer = this.metrics.sendTime.startTimer({ topic });
    let outcomes: SendOutcome[];
    try {
      outcomes = await send(records);
    } catch (error) {
      settled();
      endSpan(trace.span, error);
      throw error;
    } finally {
      stopTimer();
    }
    const failed = outcomes.find((outcome) => outcome.status !== 'acknowledged');
    if (!failed) {
      settled();
      const deliveries = this.deliveries(
        publications,
        outcomes.map((outcome) => (outcome as { ack: RecordAck }).ack),
      );
      options.onSettled?.(deliveries);
      if (deliveries.length === 1) {
        trace.span.setAttribute('messaging.destination.partition.id', String(deliveries[0]!.partition));
        trace.span.setAttribute('messaging.kafka.offset', deliveries[0]!.offset);
      }
      endSpan(trace.span);
      for (const publication of publications) {
        this.metrics.messagesSent.inc({ topic: publication.topic, type: publication.type });
      }
      return deliveries;
    }
    endSpan(trace.span, failed.error);
    for (const publication of publications) {
      this.metrics.messagesFailed.inc({
        topic: publication.topic,
        type: publication.type,
        error: failed.error.errorClass,
      });
    }
    // The final word once every record settled: deliveries if the broker acknowledged all of them after all.
    const finalAcks = outcomes.map((outcome): Promise<RecordAck | undefined> =>
      outcome.status === 'acknowledged'
        ? Promise.resolve(outcome.ack)
        : outcome.status === 'unknown'
          ? outcome.settled
          : Promise.resolve(undefined),
    );
    void Promise.all(finalAcks).then((acks) => {
      settled();
      const all = acks.filter((ack): ack is RecordAck => ack !== undefined);
      options.onSettled?.(all.length === acks.length ? this.deliveries(publications, all) : undefined);
    });
    throw this.toServiceError(failed, topic);
  }

  private deliveries(publications: Publication[], acks: RecordAck[]): DeliveryDto[] {
    // A batch's records mostly share one timestamp: each one is formatted once, not once per record.
    let formattedMs = NaN;
    let formatted = '';
    return acks.map((ack, i) => {
      if (ack.timestamp !== formattedMs) {
        formattedMs = ack.timestamp;
        formatted = new Date(formattedMs).toISOString();
      }
      return {
        messageId: publications[i]!.id,
        topic: ack.topic,
        partition: ack.partition,
        offset: Number(ack.offset),
        timestamp: formatted,
      };
    });
  }

  private toServiceError(
    outcome: Exclude<SendOutcome, { status: 'acknowledged' }>,
    topic: string,
  ): ServiceError {
    const error: KafkaSendError = outcome.error;
    const timeoutMs = this.config.http.sendTimeoutMs;
    const timedOut = error.errorClass === 'SendTimeout';
    if (outcome.status === 'unknown') {
      return new ServiceError(
        ErrorCode.KafkaOutcomeUnknown,
        timedOut
          ? `No acknowledgement from Kafka within ${timeoutMs} ms; the message may or may not have been written`
          : 'Kafka did not acknowledge the message; it may or may not have been written',
        { retryAfterSeconds: 5, cause: error },
      );
    }
    switch (error.kind) {
      case KafkaFailureKind.Retriable:
      case KafkaFailureKind.Unreachable:
        return new ServiceError(
          ErrorCode.KafkaUnavailable,
          timedOut
            ? `Kafka did not take the message within ${timeoutMs} ms; it was not sent`
            : 'Kafka is unavailable; the message was not sent',
          { retryAfterSeconds: 5, cause: error },
        );
      case KafkaFailureKind.RecordTooLarge:
        return new ServiceError(
          ErrorCode.RecordTooLarge,
          `The broker rejected the record as too large for ${topic}`,
          {
            cause: error,
          },
        );
      case KafkaFailureKind.AuthenticationFailed:
        return new ServiceError(
          ErrorCode.KafkaAuthenticationFailed,
          "Kafka refused the service's credentials (SASL authentication failed); the message was not sent",
          { retryAfterSeconds: 30, cause: error },
        );
      case KafkaFailureKind.NotAuthorized:
        return new ServiceError(
          ErrorCode.KafkaNotAuthorized,
          `The service is not authorized to write to ${topic}`,
          {
            cause: error,
          },
        );
      case KafkaFailureKind.UnknownTopic:
        return new ServiceError(ErrorCode.TopicNotFound, `Topic ${topic} does not exist`, {
          retryAfterSeconds: 5,
          cause: error,
        });
      case KafkaFailureKind.Fatal:
        return new ServiceError(ErrorCode.KafkaRejected, 'Kafka rejected the message; it was not sent', {
          cause: error,
        });
    }
  }
}
