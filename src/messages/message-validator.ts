import { Injectable } from '@nestjs/common';
import { FieldError, InvalidInputError } from '../common/errors';
import { validateDto } from '../common/validation';
import { AppConfig } from '../config/app-config';
import { MessageDto } from './dto/message.dto';

/**
 * Validates Messages outside the global DtoValidationPipe, with its exact rules: the batch endpoint's
 * array items and the feedback consumer's records.
 */
@Injectable()
export class MessageValidator {
  constructor(private readonly config: AppConfig) {}

  /** Returns the field errors of one plain value (empty when it is a valid Message). */
  problems(plain: unknown, prefix = ''): { message?: MessageDto; errors: FieldError[] } {
    try {
      return { message: validateDto(MessageDto, plain, prefix), errors: [] };
    } catch (error) {
      if (error instanceof InvalidInputError) {
        return { errors: error.details ?? [] };
      }
      throw error;
    }
  }

  /** A non-empty array of at most BATCH_MAX_MESSAGES Messages; every bad item is reported. */
  batch(plain: unknown): MessageDto[] {
    if (!Array.isArray(plain)) {
      throw new InvalidInputError([{ field: 'body', reason: 'must be a JSON array of Messages' }]);
    }
    const max = this.config.message.maxBatchMessages;
    if (plain.length === 0 || plain.length > max) {
      throw new InvalidInputError([
        { field: 'body', reason: `must hold 1 to ${max} messages (got ${plain.length})` },
      ]);
    }
    const messages: MessageDto[] = [];
    const errors: FieldError[] = [];
    plain.forEach((item, index) => {
      const result = this.problems(item, `[${index}]`);
      if (result.message) {
        messages.push(result.message);
      }
      errors.push(...result.errors);
    });
    if (errors.length > 0) {
      throw new InvalidInputError(errors.slice(0, 100));
    }
    return messages;
  }
}
