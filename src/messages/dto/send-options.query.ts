import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { IsMessageContent, IsMessageType } from '../message-rules';

/** Query parameters every send endpoint accepts. */
export class SendOptionsQuery {
  /** Record key; defaults to the message id. Same key → same partition → ordered. */
  @ApiPropertyOptional({
    description:
      'Record key; defaults to the message id. Same key → same partition (murmur2, as the Java client) → ordered.',
    minLength: 1,
    maxLength: 256,
    example: 'customer-7',
  })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  key?: string;
}

/** POST /api/messages/simple?content=…&type=…&key=… (the seed's simple endpoint). */
export class SimpleMessageQuery extends SendOptionsQuery {
  @ApiProperty({ description: 'The payload text; not blank', example: 'Hello Kafka' })
  @IsMessageContent()
  content!: string;

  @IsMessageType()
  type?: string;
}
