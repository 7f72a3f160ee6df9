import { Inject, Injectable, Logger } from '@nestjs/common';
import { Consumer, EachMessagePayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { KAFKA_CLIENT } from './kafka.constants';

/**
 * A consumed record's headers by name, each value the bytes that came. A name that occurs more than once
 * maps to an array of its values in the order they were written (the convention of RecordHeaders).
 */
export type ConsumedHeaders = Record<string, Buffer | Buffer[]>;

/**
 * One consumed record, free of kafkajs types and byte-exact: the key, value and header values exactly as
 * their bytes came (null stays null), repeated headers kept in order.
 */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as the decimal string kafkajs gives. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: ConsumedHeaders;
  /** CreateTime or LogAppendTime, epoch milliseconds, as a decimal string. */
  timestamp: string;
}

/** Where a consumer is in its life. */
export type ConsumerState = 'STARTING' | 'RUNNING' | 'REBALANCING' | 'RECONNECTING' | 'STOPPED';

export interface ConsumerRunnerOptions {
  groupId: string;
  topic: string;
  /**
   * Called for each record, one at a time per partition; the record is committed after it returns. If it
   * throws, the record stays uncommitted and kafkajs redelivers it. `heartbeat` keeps the group membership
   * alive during long handling.
   */
  handle: (record: ConsumedRecord, heartbeat: () => Promise<void>) => Promise<void>;
  /** Told when the consumer joins its group (true) or loses it (false). */
  membershipChanged?: (inGroup: boolean) => void;
  /** For log lines: what this consumer is. */
  name: string;
}

/**
 * kafkajs' own retries for connecting, joining and fetching, set explicitly (its defaults differ under
 * NODE_ENV=test). Past them kafkajs restarts the consumer on retriable errors; we rebuild it on the rest.
 */
export const CONSUMER_RETRY = {
  retries: 5,
  initialRetryTime: 300,
  maxRetryTime: 5000,
  multiplier: 2,
  factor: 0.2,
};
export const REBUILD_AFTER_MS = 5000;

/**
 * How long the broker may hold a fetch while the topic has nothing new: the Java consumer's
 * fetch.max.wait.ms (500 ms), which Spring Kafka keeps. stop() waits for the fetch in progress: with
 * kafkajs' default of 5 s, an idle service would take up to 5 s to leave its group and exit.
 */
export const FETCH_MAX_WAIT_MS = 500;

/** The offset to commit once a record is finished with: Kafka commits the *next* offset to read. */
export function nextOffset(record: Pick<ConsumedRecord, 'offset'>): string {
  return (BigInt(record.offset) + 1n).toString();
}

/**
 * Consumes one topic in one group (enable-auto-commit false, auto-offset-reset earliest): calls the handler
 * for each record and commits the record (offset + 1) only after the handler returned. Starts in the
 * background, rebuilds itself when kafkajs gives up, and leaves the group on stop().
 */
export class ConsumerRunner {
  private readonly logger: Logger;
  private consumer?: Consumer;
  private currentState: ConsumerState = 'STARTING';
  private partitions: number[] = [];
  private error?: { message: string; at: string };
  private rebuildTimer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ConsumerRunnerOptions,
  ) {
    this.logger = new Logger(options.name);
  }

  get state(): ConsumerState {
    return this.currentState;
  }

  /** The partitions of the topic assigned to this member, ascending. */
  get assignedPartitions(): number[] {
    return this.partitions;
  }

  get lastError(): { message: string; at: string } | undefined {
    return this.error;
  }

  /** Never awaited by start-up: the service starts (and serves HTTP) with Kafka down. */
  start(): void {
    void this.run();
  }

  private async run(): Promise<void> {
    const { groupId, topic } = this.options;
    this.currentState = 'STARTING';
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      retry: { ...CONSUMER_RETRY, restartOnFailure: () => Promise.resolve(!this.stopping) },
    });
    this.consumer = consumer;
    this.observe(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      if (this.stopping) {
        return;
      }
      await consumer.run({
        autoCommit: false,
        eachMessage: (payload) => this.consume(consumer, payload),
      });
      this.logger.log(`Consuming ${topic} in group ${groupId}`);
    } catch (error) {
      this.failed(`could not start consuming ${topic}: ${(error as Error).message}`);
      await consumer.disconnect().catch(() => undefined);
      this.scheduleRebuild();
    }
  }

  private async consume(consumer: Consumer, payload: EachMessagePayload): Promise<void> {
    const record = toConsumedRecord(payload.topic, payload.partition, payload.message);
    await this.options.handle(record, () => payload.heartbeat());
    // Kafka's committed offset is the next one to read; committing after handling is what makes a crash
    // mid-record redeliver it instead of skipping it.
    await consumer.commitOffsets([
      { topic: record.topic, partition: record.partition, offset: nextOffset(record) },
    ]);
  }

  private observe(consumer: Consumer): void {
    const { groupId, topic, membershipChanged } = this.options;
    const { GROUP_JOIN, REBALANCING, CRASH, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      this.currentState = 'RUNNING';
      this.partitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      membershipChanged?.(true);
      this.logger.log(`Joined group ${groupId}; partitions ${this.partitions.join(', ') || 'none'}`);
    });
    consumer.on(REBALANCING, () => {
      this.currentState = 'REBALANCING';
    });
    consumer.on(CRASH, ({ payload }) => {
      membershipChanged?.(false);
      this.partitions = [];
      this.failed(`consumer crashed: ${payload.error.message}`);
      // kafkajs restarts the consumer itself on retriable errors; on the others it stays stopped.
      if (!payload.restart && consumer === this.consumer) {
        this.scheduleRebuild();
      }
    });
    consumer.on(DISCONNECT, () => {
      membershipChanged?.(false);
      this.partitions = [];
      if (this.stopping) {
        this.currentState = 'STOPPED';
      }
    });
  }

  private failed(message: string): void {
    this.error = { message, at: new Date().toISOString() };
    if (!this.stopping) {
      this.currentState = 'RECONNECTING';
      this.logger.warn(message);
    }
  }

  private scheduleRebuild(): void {
    if (this.stopping || this.rebuildTimer) {
      return;
    }
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      void this.run();
    }, REBUILD_AFTER_MS);
    this.rebuildTimer.unref();
  }

  /**
   * Leaves the group: kafkajs waits for the record in hand (committed once its handler returns), then
   * disconnects. No rebuild happens after this.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.rebuildTimer);
    if (this.consumer) {
      await this.consumer.disconnect().catch((error: unknown) => {
        this.logger.warn(`did not leave group ${this.options.groupId} cleanly: ${(error as Error).message}`);
      });
    }
    this.currentState = 'STOPPED';
  }
}

/** Builds ConsumerRunners on the service's Kafka client: how the rest of the service consumes a topic. */
@Injectable()
export class ConsumerRunnerFactory {
  constructor(@Inject(KAFKA_CLIENT) private readonly kafka: Kafka) {}

  create(options: ConsumerRunnerOptions): ConsumerRunner {
    return new ConsumerRunner(this.kafka, options);
  }
}

/** kafkajs' message as a ConsumedRecord. */
export function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: headerBytes(message.headers),
    timestamp: message.timestamp,
  };
}

/**
 * kafkajs' headers as bytes. kafkajs decodes every header value to a Buffer and turns a repeated name into
 * an array in record order; a string (its type allows one) is taken as UTF-8.
 */
export function headerBytes(headers: IHeaders | undefined): ConsumedHeaders {
  const bytes: ConsumedHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (Array.isArray(value)) {
      bytes[name] = value.map(toBuffer);
    } else if (value !== undefined) {
      bytes[name] = toBuffer(value);
    }
  }
  return bytes;
}

function toBuffer(value: Buffer | string): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
}
