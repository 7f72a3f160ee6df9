import { BaseRpcContext } from '@nestjs/microservices';
import { ConsumedHeaders, ConsumedRecord } from './consumer-runner';

type KafkaRecordContextArgs = [record: ConsumedRecord, heartbeat: () => Promise<void>];

/**
 * What an `@EventPattern` handler on the KafkaTransport gets through `@Ctx()`: the record exactly as it came
 * (key, value and header values as bytes, repeated headers in order, null kept), where it came from, and
 * the heartbeat that keeps the group membership alive while the handler works.
 */
export class KafkaRecordContext extends BaseRpcContext<KafkaRecordContextArgs> {
  constructor(record: ConsumedRecord, heartbeat: () => Promise<void>) {
    super([record, heartbeat]);
  }

  /** The whole record (for code that takes a ConsumedRecord). */
  get record(): ConsumedRecord {
    return this.args[0];
  }

  get topic(): string {
    return this.record.topic;
  }

  get partition(): number {
    return this.record.partition;
  }

  /** The record's offset, a decimal string (Kafka offsets are 64-bit). */
  get offset(): string {
    return this.record.offset;
  }

  get key(): Buffer | null {
    return this.record.key;
  }

  get value(): Buffer | null {
    return this.record.value;
  }

  /** Header values as bytes; a repeated name maps to its values in record order. */
  get headers(): ConsumedHeaders {
    return this.record.headers;
  }

  /** CreateTime or LogAppendTime, epoch milliseconds, as a decimal string. */
  get timestamp(): string {
    return this.record.timestamp;
  }

  /** Keeps this consumer's group membership alive during long handling (kafkajs' heartbeat). */
  heartbeat(): Promise<void> {
    return this.args[1]();
  }
}

/**
 * Headers as text for readers that need strings (trace propagation, logs): each value decoded as UTF-8, the
 * last of a repeated name.
 */
export function headerText(headers: ConsumedHeaders): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) {
      text[name] = last.toString('utf8');
    }
  }
  return text;
}
