import {
  IsDefined,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Validate,
} from 'class-validator';
import { ContentLengthRule, MessageTypeRule, MetadataRule } from '../message-rules';

/** The Message as callers send it (the seed's Message class); only `content` is required. */
export class MessageDto {
  /** Unique id; the service fills a UUID when absent. Also the default record key. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  @Matches(/^[\x21-\x7e]+$/, { message: 'id must be printable ASCII without spaces' })
  id?: string;

  @IsDefined({ message: 'content is required' })
  @IsString()
  @Matches(/\S/, { message: 'content must not be blank' })
  @Validate(ContentLengthRule)
  content!: string;

  /** One of MESSAGE_TYPES; INFO when absent. */
  @IsOptional()
  @IsString()
  @Validate(MessageTypeRule)
  type?: string;

  /** ISO-8601; the service fills the current UTC time when absent. */
  @IsOptional()
  @IsString()
  @IsISO8601({ strict: true }, { message: 'timestamp must be an ISO-8601 date-time' })
  timestamp?: string;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  source?: string;

  /** String → string, bounded by MESSAGE_MAX_METADATA_ENTRIES and MESSAGE_MAX_METADATA_VALUE_LENGTH. */
  @IsOptional()
  @Validate(MetadataRule)
  metadata?: Record<string, string>;
}
