import { ApiProperty } from '@nestjs/swagger';

/** Where one message landed, after the broker acknowledged it. */
export class DeliveryDto {
  @ApiProperty({
    description: 'The message id (given, or the UUID the service filled in)',
    example: 'order-42',
  })
  messageId!: string;

  @ApiProperty({ example: 'demo-topic' })
  topic!: string;

  @ApiProperty({ example: 1, minimum: 0 })
  partition!: number;

  @ApiProperty({ description: 'The record offset in its partition', example: 17, minimum: 0 })
  offset!: number;

  /** The record's CreateTime (ISO-8601, UTC). */
  @ApiProperty({
    description: "The record's CreateTime (ISO-8601, UTC)",
    format: 'date-time',
    example: '2025-01-01T12:00:00.123Z',
  })
  timestamp!: string;
}

export class SendResultDto extends DeliveryDto {
  @ApiProperty({ enum: ['success'], example: 'success' })
  status!: 'success';
}

export class BatchResultDto {
  @ApiProperty({ enum: ['success'], example: 'success' })
  status!: 'success';

  @ApiProperty({ description: 'How many messages the transaction committed', example: 2 })
  count!: number;

  @ApiProperty({ type: [DeliveryDto], description: 'One delivery per message, in request order' })
  results!: DeliveryDto[];
}
