import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, KafkaFailureKind, KafkaSendError, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { OutgoingRecord, RecordAck, RecordSender } from '../kafka/record-sender';
import { Metrics } from '../observability/metrics';
import { MessageDto } from './dto/message.dto';
import { DeliveryDto } from './dto/send-result.dto';
import { completeMessage, Message, serializeMessage } from './message';
import { RecordAccumulator } from './record-accumulator';
import { retryWithBackoff } from './retry';

export interface SendOptions {
  /** Record key; the message id when absent. */
  key?: string;
  requestId?: string;
}

/** Bytes Kafka adds to a record beyond key, value and headers (v2 record overhead, generously). */
const RECORD_OVERHEAD_BYTES = 128;

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

  constructor(
    private readonly sender: RecordSender,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.accumulator = new RecordAccumulator(
      (topic, records) => this.sender.send(topic, records),
      {
        batchSizeBytes: config.producer.batchSizeBytes,
        lingerMs: config.producer.lingerMs,
        maxRequestBytes: config.producer.maxRecordBytes,
      },
      (records, bytes) => {
        metrics.recordsPerRequest.observe(records);
        metrics.bytesPerRequest.observe(bytes);
      },
      (error) =>
        error instanceof KafkaSendError &&
        (error.kind === KafkaFailureKind.RecordTooLarge || error.kind === KafkaFailureKind.Fatal),
    );
  }

  get topic(): string {
    return this.config.topics.messages.name;
  }

  async send(dto: MessageDto, options: SendOptions = {}): Promise<DeliveryDto> {
    const message = completeMessage(dto);
    const record = this.toRecord(message, options);
    const [delivery] = await this.tracked([message], () =>
      this.withRetry(() => this.accumulator.add(this.topic, record)).then((ack) => [ack]),
    );
    return delivery!;
  }

  /** All messages in one Kafka transaction: every one is visible to read_committed consumers, or none. */
  async sendBatch(dtos: MessageDto[], options: SendOptions = {}): Promise<DeliveryDto[]> {
    const now = new Date();
    const messages = dtos.map((dto) => completeMessage(dto, now));
    const records = messages.map((message) => this.toRecord(message, options));
    return this.tracked(messages, () =>
      this.withRetry(() => this.sender.sendAtomically(this.topic, records)),
    );
  }

  /**
   * Graceful shutdown: by now the HTTP server has drained (main.ts), so this is a safety net that flushes
   * anything still queued before KafkaModule disconnects the producers in onApplicationShutdown.
   */
  beforeApplicationShutdown(): Promise<void> {
    return this.accumulator.drain();
  }

  private toRecord(message: Message, options: SendOptions): OutgoingRecord {
    const value = serializeMessage(message);
    const key = options.key ?? message.id;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'message-type': message.type,
    };
    if (options.requestId) {
      headers['x-request-id'] = options.requestId;
    }
    const size =
      value.length +
      Buffer.byteLength(key) +
      Object.entries(headers).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0) +
      RECORD_OVERHEAD_BYTES;
    if (size > this.config.producer.maxRecordBytes) {
      throw new ServiceError(
        ErrorCode.PayloadTooLarge,
        `message ${message.id} is ${size} bytes as a Kafka record; the limit is ${this.config.producer.maxRecordBytes}`,
      );
    }
    return { key, value, headers, timestamp: Date.now() };
  }

  private withRetry<T>(fn: () => Promise<T>): Promise<T> {
    return retryWithBackoff(
      fn,
      this.config.producer.retry,
      (error) => error instanceof KafkaSendError && error.kind === KafkaFailureKind.Retriable,
      (error, attempt, delayMs) => {
        this.metrics.sendRetries.inc({ topic: this.topic });
        this.logger.warn(
          `send attempt ${attempt} failed (${(error as Error).message}); retrying in ${delayMs} ms`,
        );
      },
    );
  }

  /** Bounds in-flight sends, records metrics, and turns Kafka failures into service errors. */
  private async tracked(messages: Message[], send: () => Promise<RecordAck[]>): Promise<DeliveryDto[]> {
    if (this.inFlight + messages.length > this.config.http.maxInFlightSends) {
      throw new ServiceError(ErrorCode.Overloaded, 'Too many sends in flight; retry shortly', {
        retryAfterSeconds: 1,
      });
    }
    this.inFlight += messages.length;
    this.metrics.inFlightSends.set(this.inFlight);
    const stopTimer = this.metrics.sendTime.startTimer({ topic: this.topic });
    try {
      const acks = await send();
      for (const message of messages) {
        this.metrics.messagesSent.inc({ topic: this.topic, type: message.type });
      }
      return acks.map((ack, i) => ({
        messageId: messages[i]!.id,
        topic: ack.topic,
        partition: ack.partition,
        offset: Number(ack.offset),
        timestamp: new Date(ack.timestamp).toISOString(),
      }));
    } catch (error) {
      const errorClass = error instanceof KafkaSendError ? error.errorClass : (error as Error).name;
      for (const message of messages) {
        this.metrics.messagesFailed.inc({ topic: this.topic, type: message.type, error: errorClass });
      }
      throw this.toServiceError(error);
    } finally {
      stopTimer();
      this.inFlight -= messages.length;
      this.metrics.inFlightSends.set(this.inFlight);
    }
  }

  private toServiceError(error: unknown): unknown {
    if (!(error instanceof KafkaSendError)) {
      return error;
    }
    const topic = this.topic;
    switch (error.kind) {
      case KafkaFailureKind.Retriable:
      case KafkaFailureKind.Unreachable:
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
