import { KafkaSendError } from '../common/errors';

/** A header value as Kafka carries it: bytes (a string is written as its UTF-8 bytes). */
export type HeaderValue = Buffer | string;

/**
 * Record headers by name. A header that occurs more than once is an array, its values in the order they
 * were written (Kafka allows repeated names; the record keeps them in that order within a name).
 */
export type RecordHeaders = Record<string, HeaderValue | HeaderValue[]>;

/** A record to publish, free of kafkajs types. */
export interface OutgoingRecord {
  topic: string;
  /** Null for a record without a key (it then needs an explicit partition). */
  key: Buffer | string | null;
  /** Null for a record with no value (a tombstone, or a CloudEvent without data in binary mode). */
  value: Buffer | null;
  headers: RecordHeaders;
  /** The partition to write to; absent, the key's partition as the Java client picks it (murmur2). */
  partition?: number;
  /** CreateTime, epoch milliseconds. */
  timestamp: number;
}

/** Where the broker stored a record, once it acknowledged it (acks=all). */
export interface RecordAck {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
}

/**
 * What became of one record, exactly one of three values:
 * - `acknowledged`: the broker stored it (acks=all) at `ack`;
 * - `not-sent`: it was certainly not written (never in a produce request, or refused by the broker for
 *   good); sending it again cannot duplicate it;
 * - `unknown`: a produce request carrying it was lost or unanswered by the deadline, so it may or may not
 *   be on the topic. `settled` resolves later with the ack if the broker still acknowledges it, or
 *   undefined once the service stopped trying (the outcome stays unknown).
 */
export type SendOutcome =
  | { status: 'acknowledged'; ack: RecordAck }
  | { status: 'not-sent'; error: KafkaSendError }
  | { status: 'unknown'; error: KafkaSendError; settled: Promise<RecordAck | undefined> };

/** Bytes Kafka adds to a record beyond key, value and headers (v2 record overhead, generously). */
const RECORD_OVERHEAD_BYTES = 128;

function headerBytes(value: HeaderValue | HeaderValue[]): number {
  if (Array.isArray(value)) {
    return value.reduce((sum, v) => sum + headerBytes(v), 0);
  }
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** A record's size as Kafka counts it against max.request.size and batch.size, estimated from above. */
export function estimatedRecordBytes(record: OutgoingRecord): number {
  const key = record.key;
  let size =
    (record.value?.length ?? 0) +
    (key === null ? 0 : typeof key === 'string' ? Buffer.byteLength(key) : key.length) +
    RECORD_OVERHEAD_BYTES;
  for (const name in record.headers) {
    size += Buffer.byteLength(name) + headerBytes(record.headers[name]!);
  }
  return size;
}
