import { applyDecorators, Injectable } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsDefined,
  IsOptional,
  IsString,
  Matches,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { AppConfig } from '../config/app-config';

/*
 * The configurable parts of a Message's validation (allowed types, content length, metadata bounds).
 * They read AppConfig through Nest's container (class-validator's useContainer, set in configureApp).
 */

@ValidatorConstraint({ name: 'messageType' })
@Injectable()
export class MessageTypeRule implements ValidatorConstraintInterface {
  constructor(private readonly config: AppConfig) {}

  validate(value: unknown): boolean {
    return typeof value === 'string' && this.config.message.types.includes(value);
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be one of: ${this.config.message.types.join(', ')}`;
  }
}

@ValidatorConstraint({ name: 'contentLength' })
@Injectable()
export class ContentLengthRule implements ValidatorConstraintInterface {
  constructor(private readonly config: AppConfig) {}

  validate(value: unknown): boolean {
    return typeof value === 'string' && value.length <= this.config.message.maxContentLength;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be at most ${this.config.message.maxContentLength} characters`;
  }
}

const MAX_METADATA_KEY_LENGTH = 256;

@ValidatorConstraint({ name: 'metadata' })
@Injectable()
export class MetadataRule implements ValidatorConstraintInterface {
  constructor(private readonly config: AppConfig) {}

  private problem(value: unknown): string | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return 'must be an object of string values';
    }
    const entries = Object.entries(value);
    const { maxMetadataEntries, maxMetadataValueLength } = this.config.message;
    if (entries.length > maxMetadataEntries) {
      return `must have at most ${maxMetadataEntries} entries`;
    }
    for (const [key, item] of entries) {
      if (key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH) {
        return `keys must be 1 to ${MAX_METADATA_KEY_LENGTH} characters`;
      }
      if (typeof item !== 'string') {
        return `value of "${key.slice(0, 64)}" must be a string`;
      }
      if (item.length > maxMetadataValueLength) {
        return `value of "${key.slice(0, 64)}" must be at most ${maxMetadataValueLength} characters`;
      }
    }
    return undefined;
  }

  validate(value: unknown): boolean {
    return this.problem(value) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} ${this.problem(args.value) ?? 'is invalid'}`;
  }
}

export const MESSAGE_RULES = [MessageTypeRule, ContentLengthRule, MetadataRule];

/** A Message's `content`, in a body or a query: required, a string, not blank, bounded. */
export const IsMessageContent = (): PropertyDecorator =>
  applyDecorators(
    IsDefined({ message: 'content is required' }),
    IsString(),
    Matches(/\S/, { message: 'content must not be blank' }),
    Validate(ContentLengthRule),
  );

/** A Message's optional `type`: one of MESSAGE_TYPES (validated, and described in the OpenAPI document). */
export const IsMessageType = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      description: 'One of MESSAGE_TYPES (default INFO, WARNING, ERROR, DEBUG); INFO when absent.',
      example: 'INFO',
      default: 'INFO',
    }),
    IsOptional(),
    IsString(),
    Validate(MessageTypeRule),
  );
