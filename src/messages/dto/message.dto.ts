import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, Validate } from 'class-validator';
import { IsMessageContent, IsMessageType, MetadataRule } from '../message-rules';

/** The Message as callers send it (the seed's Message class); only `content` is required. */
export class MessageDto {
  /** Unique id; the service fills a UUID when absent. Also the default record key. */
  @ApiPropertyOptional({
    description:
      'Unique id; the service fills a UUID when absent. Also the default record key, so consumers can de-duplicate by it.',
    maxLength: 128,
    pattern: '^[\\x21-\\x7e]+$',
    example: 'order-42',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  @Matches(/^[\x21-\x7e]+$/, { message: 'id must be printable ASCII without spaces' })
  id?: string;

  @ApiProperty({
    description:
      'The payload text; not blank, at most MESSAGE_MAX_CONTENT_LENGTH characters (default 262144).',
    example: 'Hello, Kafka!',
  })
  @IsMessageContent()
  content!: string;

  /** One of MESSAGE_TYPES; INFO when absent. */
  @IsMessageType()
  type?: string;

  /** ISO-8601; the service fills the current UTC time when absent. */
  @ApiPropertyOptional({
    description: 'ISO-8601 date-time; the service fills the current UTC time when absent.',
    format: 'date-time',
    example: '2025-01-01T12:00:00Z',
  })
  @IsOptional()
  @IsString()
  @IsISO8601({ strict: true }, { message: 'timestamp must be an ISO-8601 date-time' })
  timestamp?: string;

  @ApiPropertyOptional({ description: 'The sending system', maxLength: 256, example: 'api-test' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  source?: string;

  /** String → string, bounded by MESSAGE_MAX_METADATA_ENTRIES and MESSAGE_MAX_METADATA_VALUE_LENGTH. */
  @ApiPropertyOptional({
    description:
      'String → string map; at most MESSAGE_MAX_METADATA_ENTRIES entries (default 32), values at most MESSAGE_MAX_METADATA_VALUE_LENGTH characters (default 1024).',
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { key1: 'value1', key2: 'value2' },
  })
  @IsOptional()
  @Validate(MetadataRule)
  metadata?: Record<string, string>;
}
