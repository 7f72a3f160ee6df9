import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { endSpan, extractContext, SpanKind, startSpan } from '../observability/tracing';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { FeedbackFailureKind, FeedbackRejectedError } from './feedback-errors';
import { describeRecord, FeedbackRecord } from './feedback-record';
import { FeedbackHandler } from './feedback.handler';

// The partition waits while a record is retried, and so does shutdown: no single wait is longer than this.
const MAX_BACKOFF_MS = 5000;

export type ProcessOutcome =
  | { outcome: 'handled'; attempts: number }
  | { outcome: 'dead-lettered'; kind: FeedbackFailureKind; attempts: number; error: Error };

/**
 * Sees one record through to an end the consumer may commit: handled, or written to the dead-letter
 * topic. A refused record (not JSON, not a Message) is dead-lettered at once, since retrying cannot
 * change it; any other handler error is retried up to FEEDBACK_MAX_ATTEMPTS times with doubling backoff (at most 5 s a wait).
 * Rejects only when the dead-letter write fails: then the record must stay uncommitted.
 */
@Injectable()
export class FeedbackRecordProcessor {
  private readonly logger = new Logger(FeedbackRecordProcessor.name);

  constructor(
    private readonly handler: FeedbackHandler,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly config: AppConfig,
  ) {}

  /**
   * `stillOwned` keeps the group membership alive between attempts (kafkajs' heartbeat). The record's
   * handling is a consumer span that continues the trace of its `traceparent` header, if it has one.
   */
  async process(record: FeedbackRecord, stillOwned: () => Promise<void>): Promise<ProcessOutcome> {
    const { span } = startSpan(`process ${record.topic}`, SpanKind.CONSUMER, extractContext(record.headers), {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': record.topic,
      'messaging.destination.partition.id': String(record.partition),
      'messaging.kafka.offset': Number(record.offset),
      'messaging.consumer.group.name': this.config.feedback.groupId,
    });
    try {
      const outcome = await this.attempts(record, stillOwned);
      span.setAttribute('feedback.outcome', outcome.outcome);
      endSpan(span, outcome.outcome === 'dead-lettered' ? outcome.error : undefined);
      return outcome;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  }

  private async attempts(record: FeedbackRecord, stillOwned: () => Promise<void>): Promise<ProcessOutcome> {
    const { maxAttempts, retryBackoffMs } = this.config.feedback;
    for (let attempt = 1; ; attempt += 1) {
      try {
        this.handler.handle(record);
        return { outcome: 'handled', attempts: attempt };
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        if (error instanceof FeedbackRejectedError) {
          await this.deadLetters.publish(record, error.kind, error, attempt);
          return { outcome: 'dead-lettered', kind: error.kind, attempts: attempt, error };
        }
        if (attempt >= maxAttempts) {
          await this.deadLetters.publish(record, FeedbackFailureKind.HandlerFailed, error, attempt);
          return {
            outcome: 'dead-lettered',
            kind: FeedbackFailureKind.HandlerFailed,
            attempts: attempt,
            error,
          };
        }
        const backoffMs = Math.min(retryBackoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        this.logger.warn(
          `Handling ${describeRecord(record)} failed (attempt ${attempt} of ${maxAttempts}): ` +
            `${error.message}; retrying in ${backoffMs} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        await stillOwned();
      }
    }
  }
}
