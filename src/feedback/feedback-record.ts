import { ConsumedRecord } from '../kafka/consumer-runner';

/** One record of the feedback topic, as the Kafka layer hands it over (ConsumedRecord). */
export type FeedbackRecord = ConsumedRecord;

/** `topic-partition@offset`, the way the logs name a record. */
export function describeRecord(record: Pick<FeedbackRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${record.topic}-${record.partition}@${record.offset}`;
}
