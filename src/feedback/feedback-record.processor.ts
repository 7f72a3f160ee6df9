import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { from, lastValueFrom, Observable } from 'rxjs';
import { AppConfig } from '../config/app-config';
import { headerText, KafkaRecordContext } from '../kafka/kafka-record.context';
import { endSpan, extractContext, SpanKind, startSpan } from '../observability/tracing';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { FeedbackFailureKind, FeedbackRejectedError } from './feedback-errors';
import { describeRecord, FeedbackRecord } from './feedback-record';

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
 *
 * It is the interceptor of the feedback `@EventPattern` handler: one attempt is one run of the handler's
 * pipes (JSON, validation) and the handler itself, so a refusal by a pipe is dead-lettered like one by the
 * handler.
 */
@Injectable()
export class FeedbackRecordProcessor implements NestInterceptor {
  private readonly logger = new Logger(FeedbackRecordProcessor.name);

  constructor(
    private readonly deadLetters: DeadLetterPublisher,
    private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<ProcessOutcome> {
    const record = context.switchToRpc().getContext<KafkaRecordContext>();
    // next.handle() is deferred: each subscription runs the pipes and the handler again.
    const attempt = (): Promise<unknown> => lastValueFrom(next.handle(), { defaultValue: undefined });
    return from(this.process(record.record, attempt, () => record.heartbeat()));
  }

  /**
   * `attempt` runs the handling once; `stillOwned` keeps the group membership alive between attempts
   * (kafkajs' heartbeat). The record's handling is a consumer span that continues the trace of its
   * `traceparent` header, if it has one.
   */
  async process(
    record: FeedbackRecord,
    attempt: () => Promise<unknown>,
    stillOwned: () => Promise<void>,
  ): Promise<ProcessOutcome> {
    const parent = extractContext(headerText(record.headers));
    const { span } = startSpan(`process ${record.topic}`, SpanKind.CONSUMER, parent, {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': record.topic,
      'messaging.destination.partition.id': String(record.partition),
      'messaging.kafka.offset': Number(record.offset),
      'messaging.consumer.group.name': this.config.feedback.groupId,
    });
    try {
      const outcome = await this.attempts(record, attempt, stillOwned);
      span.setAttribute('feedback.outcome', outcome.outcome);
      endSpan(span, outcome.outcome === 'dead-lettered' ? outcome.error : undefined);
      return outcome;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  }

  private async attempts(
    record: FeedbackRecord,
    handle: () => Promise<unknown>,
    stillOwned: () => Promise<void>,
  ): Promise<ProcessOutcome> {
    const { maxAttempts, retryBackoffMs } = this.config.feedback;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await handle();
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
