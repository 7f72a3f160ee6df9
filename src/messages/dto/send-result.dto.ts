/** Where one message landed, after the broker acknowledged it. */
export class DeliveryDto {
  messageId!: string;
  topic!: string;
  partition!: number;
  offset!: number;
  /** The record's CreateTime (ISO-8601, UTC). */
  timestamp!: string;
}

export class SendResultDto extends DeliveryDto {
  status!: 'success';
}

export class BatchResultDto {
  status!: 'success';
  count!: number;
  results!: DeliveryDto[];
}
