/**
 * One record of the feedback topic as the feedback module sees it, free of kafkajs types: the key and
 * value exactly as their bytes came, header values as UTF-8 strings (the last value of a repeated key).
 */
export interface FeedbackRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as the decimal string kafkajs gives. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** CreateTime or LogAppendTime, epoch milliseconds, as a decimal string. */
  timestamp: string;
}

/** The offset to commit once a record is finished with: Kafka commits the *next* offset to read. */
export function nextOffset(record: Pick<FeedbackRecord, 'offset'>): string {
  return (BigInt(record.offset) + 1n).toString();
}

/** `topic-partition@offset`, the way the logs name a record. */
export function describeRecord(record: Pick<FeedbackRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${record.topic}-${record.partition}@${record.offset}`;
}
