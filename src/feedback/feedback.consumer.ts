import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleInit,
} from '@nestjs/common';
import { Consumer, EachMessagePayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { KAFKA_CLIENT } from '../kafka/kafka.constants';
import { HealthComponent, HealthRegistry } from '../observability/health-registry';
import { Metrics } from '../observability/metrics';
import { FeedbackRecord, nextOffset } from './feedback-record';
import { FeedbackRecordProcessor } from './feedback-record.processor';

/** Where the consumer is in its life; shown in /actuator/health. */
export type FeedbackConsumerState =
  'DISABLED' | 'STARTING' | 'RUNNING' | 'REBALANCING' | 'RECONNECTING' | 'STOPPED';

/**
 * kafkajs' own retries for connecting, joining and fetching, set explicitly (its defaults differ under
 * NODE_ENV=test). Past them kafkajs restarts the consumer on retriable errors; we rebuild it on the rest.
 */
const CONSUMER_RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 5000, multiplier: 2, factor: 0.2 };
const REBUILD_AFTER_MS = 5000;

/**
 * Consumes the feedback topic in the group `FEEDBACK_CONSUMER_GROUP` (the seed's listener with
 * enable-auto-commit false and auto-offset-reset earliest). Each record is committed (offset + 1) only
 * after FeedbackRecordProcessor finished with it, handled or dead-lettered, so a bad record never holds
 * the partition. Starts in the background, rebuilds itself when kafkajs gives up, and leaves the group
 * before the producers close at shutdown.
 */
@Injectable()
export class FeedbackConsumer implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FeedbackConsumer.name);
  private consumer?: Consumer;
  private state: FeedbackConsumerState;
  private assignedPartitions: number[] = [];
  private lastError?: { message: string; at: string };
  private rebuildTimer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    private readonly processor: FeedbackRecordProcessor,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly health: HealthRegistry,
  ) {
    this.state = config.feedback.enabled ? 'STARTING' : 'DISABLED';
  }

  onModuleInit(): void {
    // Not a readiness component: the HTTP front door serves while the feedback consumer reconnects.
    this.health.register('feedbackConsumer', () => this.healthComponent());
  }

  /** Never awaited by start-up: the service starts (and serves HTTP) with Kafka down. */
  onApplicationBootstrap(): void {
    if (this.config.feedback.enabled) {
      void this.start();
    }
  }

  get currentState(): FeedbackConsumerState {
    return this.state;
  }

  healthComponent(): HealthComponent {
    const { groupId, topic, deadLetterTopic } = this.config.feedback;
    const details: Record<string, unknown> = {
      state: this.state,
      group: groupId,
      topic,
      deadLetterTopic: deadLetterTopic.name,
      assignedPartitions: this.assignedPartitions,
    };
    if (this.lastError) {
      details.lastError = this.lastError;
    }
    switch (this.state) {
      case 'DISABLED':
      case 'RUNNING':
      case 'REBALANCING':
        return { status: 'UP', details };
      case 'STARTING':
        return { status: 'UNKNOWN', details };
      case 'RECONNECTING':
        return { status: 'DOWN', details };
      case 'STOPPED':
        return { status: 'OUT_OF_SERVICE', details };
    }
  }

  private async start(): Promise<void> {
    const { groupId, topic } = this.config.feedback;
    this.state = 'STARTING';
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
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
    const record = toFeedbackRecord(payload.topic, payload.partition, payload.message);
    await this.processor.process(record, () => payload.heartbeat());
    // Kafka's committed offset is the next one to read; committing after processing is what makes a
    // crash mid-record redeliver it instead of skipping it.
    await consumer.commitOffsets([
      { topic: record.topic, partition: record.partition, offset: nextOffset(record) },
    ]);
  }

  private observe(consumer: Consumer): void {
    const { groupId } = this.config.feedback;
    const { GROUP_JOIN, REBALANCING, CRASH, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      this.state = 'RUNNING';
      this.assignedPartitions = [...(payload.memberAssignment[this.config.feedback.topic] ?? [])].sort(
        (a, b) => a - b,
      );
      this.metrics.consumerConnected.set({ group: groupId }, 1);
      this.logger.log(`Joined group ${groupId}; partitions ${this.assignedPartitions.join(', ') || 'none'}`);
    });
    consumer.on(REBALANCING, () => {
      this.state = 'REBALANCING';
    });
    consumer.on(CRASH, ({ payload }) => {
      this.metrics.consumerConnected.set({ group: groupId }, 0);
      this.assignedPartitions = [];
      this.failed(`consumer crashed: ${payload.error.message}`);
      // kafkajs restarts the consumer itself on retriable errors; on the others it stays stopped.
      if (!payload.restart && consumer === this.consumer) {
        this.scheduleRebuild();
      }
    });
    consumer.on(DISCONNECT, () => {
      this.metrics.consumerConnected.set({ group: groupId }, 0);
      this.assignedPartitions = [];
      if (this.stopping) {
        this.state = 'STOPPED';
      }
    });
  }

  private failed(message: string): void {
    this.lastError = { message, at: new Date().toISOString() };
    if (!this.stopping) {
      this.state = 'RECONNECTING';
      this.logger.warn(`Feedback consumer: ${message}`);
    }
  }

  private scheduleRebuild(): void {
    if (this.stopping || this.rebuildTimer) {
      return;
    }
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      void this.start();
    }, REBUILD_AFTER_MS);
    this.rebuildTimer.unref();
  }

  /**
   * Before the producers close (they close in onApplicationShutdown): kafkajs waits for the record in
   * hand, whose dead-letter write may need them, then leaves the group. Every finished record is
   * already committed.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.rebuildTimer);
    if (this.consumer) {
      await this.consumer.disconnect().catch((error: unknown) => {
        this.logger.warn(`Feedback consumer did not leave its group cleanly: ${(error as Error).message}`);
      });
    }
    this.state = this.config.feedback.enabled ? 'STOPPED' : 'DISABLED';
  }
}

/** kafkajs' message as a FeedbackRecord; header values become UTF-8 text, the last of a repeated key. */
export function toFeedbackRecord(topic: string, partition: number, message: KafkaMessage): FeedbackRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: headerText(message.headers),
    timestamp: message.timestamp,
  };
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) {
      text[name] = Buffer.isBuffer(last) ? last.toString('utf8') : last;
    }
  }
  return text;
}
