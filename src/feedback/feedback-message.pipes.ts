import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError } from '../common/errors';
import { toFieldErrors, VALIDATOR_OPTIONS } from '../common/validation';
import { FeedbackFailureKind, FeedbackRejectedError } from './feedback-errors';

// Fatal: a value that is not valid UTF-8 is not JSON text; a lenient decoder would hide that.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A feedback record's value (the KafkaTransport's payload: bytes, or null) read as JSON. A value that is
 * missing, empty or not JSON is refused with FeedbackRejectedError (NotJson): retrying cannot change it.
 */
@Injectable()
export class ParseRecordJsonPipe implements PipeTransform<Buffer | null, unknown> {
  transform(value: Buffer | null): unknown {
    if (value === null || value.length === 0) {
      throw new FeedbackRejectedError(FeedbackFailureKind.NotJson, 'the record has no value');
    }
    try {
      return JSON.parse(utf8.decode(value)) as unknown;
    } catch (error) {
      throw new FeedbackRejectedError(
        FeedbackFailureKind.NotJson,
        `the value is not JSON: ${(error as Error).message}`,
      );
    }
  }
}

function rejected(errors: FieldError[]): FeedbackRejectedError {
  return new FeedbackRejectedError(
    FeedbackFailureKind.InvalidMessage,
    `the value is not a valid Message: ${errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`,
    errors,
  );
}

/**
 * Nest's ValidationPipe with the API's rules (VALIDATOR_OPTIONS, one reason per field as the HTTP errors
 * give them): parsed JSON becomes the parameter's DTO (a MessageDto), or is refused with
 * FeedbackRejectedError (InvalidMessage), dead-lettered without retrying. JSON that is not an object (a
 * bare string, an array, null) is refused with the API's wording before class-validator sees it.
 */
@Injectable()
export class FeedbackMessagePipe extends ValidationPipe {
  constructor() {
    super({
      ...VALIDATOR_OPTIONS,
      transform: true,
      exceptionFactory: (errors: ValidationError[]) => rejected(toFieldErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw rejected([{ field: 'body', reason: 'must be a JSON object (a Message)' }]);
    }
    return (await super.transform(value, metadata)) as unknown;
  }
}
