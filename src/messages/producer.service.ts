import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, KafkaFailureKind, KafkaSendError, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import {
  estimatedRecordBytes,
  OutgoingRecord,
  RecordAck,
  RecordSender,
  SendTicket,
} from '../kafka/record-sender';
import { Metrics } from '../observability/metrics';
import { MessageDto } from './dto/message.dto';
import { DeliveryDto } from './dto/send-result.dto';
import { completeMessage, Message, serializeMessage } from './message';
import { RecordAccumulator } from './record-accumulator';
import { DeadlineQueue, retryWithBackoff } from './retry';
import { Attributes, Context, ROOT_CONTEXT, Span } from '@opentelemetry/api';
import { endSpan, NO_SPAN, SpanKind, startSpan, traceHeaders, tracingOn } from '../observability/tracing';

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
  /** The request's Idempotency-Key, written on every record as the `idempotency-key` header. */
  idempotencyKey?: string;
  /**
   * Called once Kafka settled the send, even after the caller was answered at the deadline: with the
   * deliveries when the broker acknowledged, undefined when nothing was written.
   */
  onSettled?: (deliveries: DeliveryDto[] | undefined) => void;
}

/**
 * The seed's KafkaProducerService: completes and serializes Messages, checks their size, and sends them
 * with acks=all through the coalescing accumulator (single messages) or one transaction (batches),
 * retrying retriable failures with backoff. Resolves only once the broker acknowledged every record.
 */
@Injectable()
export class ProducerService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ProducerService.name);
  private readonly accumulator: RecordAccumulator;
  private inFlight = 0;
  private readonly deadlines: DeadlineQueue;

  constructor(
    private readonly sender: RecordSender,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.accumulator = new RecordAccumulator(
      (topic, records) => this.sender.sendEach(topic, records),
      {
        batchSizeBytes: config.producer.batchSizeBytes,
        lingerMs: config.producer.lingerMs,
        maxRequestBytes: config.producer.maxRecordBytes,
      },
      (records, bytes) => {
        metrics.recordsPerRequest.observe(records);
        metrics.bytesPerRequest.observe(bytes);
      },
      // A batch the broker refused as a whole is sent again one record at a time, so only the bad record
      // fails; never one that may have been appended (that would write its records twice).
      (error) =>
        error instanceof KafkaSendError &&
        error.brokerAnswered &&
        (error.kind === KafkaFailureKind.RecordTooLarge || error.kind === KafkaFailureKind.Fatal),
    );
    this.deadlines = new DeadlineQueue(config.http.sendTimeoutMs);
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
    return this.publish(this.publicationOf(completeMessage(dto), options), options);
  }

  /** All messages in one Kafka transaction: every one is visible to read_committed consumers, or none. */
  async sendBatch(dtos: MessageDto[], options: SendOptions = {}): Promise<DeliveryDto[]> {
    const now = new Date().toISOString();
    return this.publishAtomically(
      dtos.map((dto) => this.publicationOf(completeMessage(dto, now), options)),
      options,
    );
  }

  /** Sends one record through the coalescing accumulator; resolves once the broker acknowledged it. */
  async publish(publication: Publication, options: SendOptions = {}): Promise<DeliveryDto> {
    const ticket = new SendTicket();
    const trace = this.publishSpan([publication], options);
    const record = this.toRecord(publication, options, ticket, trace.headers);
    const [delivery] = await this.tracked([publication], ticket, options, trace.span, (deadline) =>
      this.withRetry(publication.topic, ticket, deadline, () =>
        this.accumulator.add(publication.topic, record),
      ).then((ack) => [ack]),
    );
    return delivery!;
  }

  /** Sends the records in one Kafka transaction (one topic or several): all are visible, or none. */
  async publishAtomically(publications: Publication[], options: SendOptions = {}): Promise<DeliveryDto[]> {
    const ticket = new SendTicket();
    const trace = this.publishSpan(publications, options);
    const records = publications.map((publication) => ({
      topic: publication.topic,
      record: this.toRecord(publication, options, ticket, trace.headers),
    }));
    return this.tracked(publications, ticket, options, trace.span, (deadline) =>
      // An aborted (or fenced) transaction is invisible to read_committed readers: resending it is safe.
      this.withRetry(
        publications[0]!.topic,
        ticket,
        deadline,
        () => this.sender.sendAtomically(records),
        true,
      ),
    );
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
   * Graceful shutdown: by now the HTTP server has drained (src/lifecycle.ts), so this is a safety net that flushes
   * anything still queued before KafkaModule disconnects the producers in onApplicationShutdown.
   */
  beforeApplicationShutdown(): Promise<void> {
    return this.accumulator.drain();
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
    ticket: SendTicket,
    traceContextHeaders: Record<string, string>,
  ): OutgoingRecord {
    const headers: Record<string, string> = { ...publication.headers, ...traceContextHeaders };
    if (options.requestId) {
      headers['x-request-id'] = options.requestId;
    }
    if (options.idempotencyKey) {
      headers['idempotency-key'] = options.idempotencyKey;
    }
    const record: OutgoingRecord = {
      key: publication.key,
      value: publication.value,
      headers,
      timestamp: Date.now(),
      ticket,
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
   * Retries retriable failures with the seed's backoff, never starting an attempt past the deadline. An
   * attempt whose request was lost in flight (no answer from the broker) marks the ticket maybeWritten.
   */
  private withRetry<T>(
    topic: string,
    ticket: SendTicket,
    deadline: number,
    fn: () => Promise<T>,
    resendMaybeWritten = false,
  ): Promise<T> {
    return retryWithBackoff(
      async () => {
        ticket.handedOver = false;
        ticket.deadline = deadline;
        try {
          return await fn();
        } catch (error) {
          if (ticket.handedOver && error instanceof KafkaSendError && !error.brokerAnswered) {
            ticket.maybeWritten = true;
          }
          throw error;
        }
      },
      this.config.producer.retry,
      // Once a record was in a produce request, RecordSender has resent its batch unchanged (which the
      // broker recognises as a copy) as long as the deadline allowed; a new request from here could write
      // a second copy. Only a send that never reached a request (no connection yet) is retried here.
      (error) =>
        error instanceof KafkaSendError &&
        error.kind === KafkaFailureKind.Retriable &&
        (resendMaybeWritten || ticket.attempts === 0),
      (error, attempt, delayMs) => {
        this.metrics.sendRetries.inc({ topic });
        this.logger.warn(
          `send attempt ${attempt} failed (${(error as Error).message}); retrying in ${delayMs} ms`,
        );
      },
      deadline,
    );
  }

  /**
   * Bounds in-flight sends and the time a caller waits (SEND_TIMEOUT_MS), records metrics, and turns
   * Kafka failures into service errors. When the deadline passes, the caller is answered at once: records
   * not yet in a produce request are dropped (certainly not written), others may still be appended.
   */
  private tracked(
    messages: Publication[],
    ticket: SendTicket,
    options: SendOptions,
    span: Span,
    send: (deadline: number) => Promise<RecordAck[]>,
  ): Promise<DeliveryDto[]> {
    if (this.inFlight + messages.length > this.config.http.maxInFlightSends) {
      throw new ServiceError(ErrorCode.Overloaded, 'Too many sends in flight; retry shortly', {
        retryAfterSeconds: 1,
      });
    }
    this.inFlight += messages.length;
    this.metrics.inFlightSends.set(this.inFlight);
    const topic = messages[0]!.topic;
    const stopTimer = this.metrics.sendTime.startTimer({ topic });
    return new Promise<DeliveryDto[]>((resolve, reject) => {
      const fail = (error: unknown): void => {
        stopTimer();
        const errorClass =
          error instanceof KafkaSendError
            ? error.errorClass
            : error instanceof ServiceError
              ? 'SendTimeout'
              : (error as Error).name;
        for (const message of messages) {
          this.metrics.messagesFailed.inc({ topic: message.topic, type: message.type, error: errorClass });
        }
        reject(this.toServiceError(error, ticket, topic));
      };
      const deadline = this.deadlines.start(() => {
        ticket.cancelled = true;
        fail(this.deadlineError(ticket));
      });
      // In-flight counts what Kafka still holds: it drops when the send settles, not when the caller gives up.
      const settled = (): void => {
        this.inFlight -= messages.length;
        this.metrics.inFlightSends.set(this.inFlight);
      };
      send(Date.now() + this.config.http.sendTimeoutMs).then(
        (acks) => {
          settled();
          // A batch's records mostly share one timestamp: each one is formatted once, not once per record.
          let formattedMs = NaN;
          let formatted = '';
          const deliveries = acks.map((ack, i) => {
            if (ack.timestamp !== formattedMs) {
              formattedMs = ack.timestamp;
              formatted = new Date(formattedMs).toISOString();
            }
            return {
              messageId: messages[i]!.id,
              topic: ack.topic,
              partition: ack.partition,
              offset: Number(ack.offset),
              timestamp: formatted,
            };
          });
          options.onSettled?.(deliveries);
          if (deliveries.length === 1) {
            span.setAttribute('messaging.destination.partition.id', String(deliveries[0]!.partition));
            span.setAttribute('messaging.kafka.offset', deliveries[0]!.offset);
          }
          endSpan(span);
          if (!deadline.settle()) {
            return;
          }
          stopTimer();
          for (const message of messages) {
            this.metrics.messagesSent.inc({ topic: message.topic, type: message.type });
          }
          resolve(deliveries);
        },
        (error: unknown) => {
          settled();
          options.onSettled?.(undefined);
          endSpan(span, error);
          if (deadline.settle()) {
            fail(error);
          }
        },
      );
    });
  }

  private deadlineError(ticket: SendTicket): ServiceError {
    const timeoutMs = this.config.http.sendTimeoutMs;
    if (ticket.handedOver || ticket.maybeWritten) {
      return new ServiceError(
        ErrorCode.KafkaOutcomeUnknown,
        `No acknowledgement from Kafka within ${timeoutMs} ms; the message may or may not have been written`,
        { retryAfterSeconds: 5 },
      );
    }
    return new ServiceError(
      ErrorCode.KafkaUnavailable,
      `Kafka did not take the message within ${timeoutMs} ms; it was not sent`,
      { retryAfterSeconds: 5 },
    );
  }

  private toServiceError(error: unknown, ticket: SendTicket, topic: string): Error {
    if (!(error instanceof KafkaSendError)) {
      return error instanceof Error ? error : new Error(String(error));
    }
    switch (error.kind) {
      case KafkaFailureKind.Retriable:
      case KafkaFailureKind.Unreachable:
        if (ticket.maybeWritten) {
          return new ServiceError(
            ErrorCode.KafkaOutcomeUnknown,
            'Kafka did not acknowledge the message; it may or may not have been written',
            { retryAfterSeconds: 5, cause: error },
          );
        }
        return new ServiceError(
          ErrorCode.KafkaUnavailable,
          'Kafka is unavailable; the message was not sent',
          {
            retryAfterSeconds: 5,
            cause: error,
          },
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
