import { Inject, Injectable } from '@nestjs/common';
import { Admin, ITopicMetadata, PartitionMetadata } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { KAFKA_ADMIN } from './kafka.constants';

const METADATA_TTL_MS = 30_000;
/**
 * How long a topic the service has seen is answered "unknown" before it counts as gone: a broker just
 * restarted, or a topic being recreated, says so for a moment (librdkafka's
 * topic.metadata.propagation.max.ms; the Java producer retries UNKNOWN_TOPIC_OR_PARTITION until its
 * delivery timeout). Meanwhile its records wait, as for a leader, and its metadata is asked again soon.
 */
const UNKNOWN_GRACE_MS = 30_000;
const UNKNOWN_RETRY_MS = 250;

/**
 * The topics' partitions (with their leaders), from the cluster's metadata, and each record's partition as
 * the Java client's default partitioner picks it for a keyed record (murmur2 of the key, see
 * partitioner.ts): same key, same partition. Metadata is fetched once, then refreshed in the background
 * when it is older than METADATA_TTL_MS or a send invalidated it (a leader may have moved): callers keep
 * the last answer meanwhile, so one partition's trouble never makes the others wait for a metadata request.
 */
@Injectable()
export class PartitionResolver {
  private readonly cache = new Map<
    string,
    { partitions: PartitionMetadata[]; fetchedAt: number; unknownSince?: number }
  >();
  private readonly pending = new Map<string, Promise<PartitionMetadata[]>>();

  constructor(@Inject(KAFKA_ADMIN) private readonly admin: Admin) {}

  /** The topic's last known partitions (no I/O); a refresh starts in the background when they are old. */
  cached(topic: string): PartitionMetadata[] | undefined {
    const cached = this.cache.get(topic);
    if (cached && Date.now() - cached.fetchedAt >= METADATA_TTL_MS) {
      this.refresh(topic).catch(() => undefined);
    }
    return cached?.partitions;
  }

  /** The topic's partitions: the last known ones, or fetched when there are none yet. */
  partitionsFor(topic: string): Promise<PartitionMetadata[]> {
    const cached = this.cached(topic);
    return cached ? Promise.resolve(cached) : this.refresh(topic);
  }

  /**
   * Whether the topic exists as far as the service knows: it had metadata, and no broker has called it
   * unknown for longer than UNKNOWN_GRACE_MS. Its "unknown topic" answers are then a moment's, not final.
   */
  knows(topic: string): boolean {
    return this.cache.has(topic);
  }

  /** The topic's metadata may be out of date (a send failed): it is fetched again before long. */
  invalidate(topic: string): void {
    const cached = this.cache.get(topic);
    if (cached) {
      cached.fetchedAt = 0;
    }
  }

  private refresh(topic: string): Promise<PartitionMetadata[]> {
    let pending = this.pending.get(topic);
    if (!pending) {
      pending = this.fetch(topic).finally(() => this.pending.delete(topic));
      this.pending.set(topic, pending);
    }
    return pending;
  }

  private async fetch(topic: string): Promise<PartitionMetadata[]> {
    let metadata: ITopicMetadata | undefined;
    try {
      const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
      metadata = topics[0];
    } catch (error) {
      if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') {
        throw this.answeredUnknown(topic, error);
      }
      throw new KafkaSendError(
        KafkaFailureKind.Retriable,
        `could not fetch metadata for ${topic}: ${(error as Error).message}`,
        (error as Error).name ?? 'Error',
        error,
      );
    }
    if (!metadata || metadata.partitions.length === 0) {
      throw this.answeredUnknown(topic);
    }
    const partitions = [...metadata.partitions].sort((a, b) => a.partitionId - b.partitionId);
    this.cache.set(topic, { partitions, fetchedAt: Date.now() });
    return partitions;
  }

  /**
   * What to throw when a broker says the topic does not exist. A known topic is kept (its last metadata,
   * asked again in UNKNOWN_RETRY_MS) and the failure is retriable, until such answers have lasted
   * UNKNOWN_GRACE_MS; then, or for a topic never known, it is forgotten and the failure is UnknownTopic.
   */
  private answeredUnknown(topic: string, cause?: unknown): KafkaSendError {
    const cached = this.cache.get(topic);
    if (cached) {
      const now = Date.now();
      cached.unknownSince ??= now;
      cached.fetchedAt = now - METADATA_TTL_MS + UNKNOWN_RETRY_MS;
      if (now - cached.unknownSince < UNKNOWN_GRACE_MS) {
        return new KafkaSendError(
          KafkaFailureKind.Retriable,
          `topic ${topic} is unknown to the broker asked, though it existed: waiting for it`,
          'UNKNOWN_TOPIC_OR_PARTITION',
          cause,
        );
      }
    }
    this.cache.delete(topic);
    return new KafkaSendError(
      KafkaFailureKind.UnknownTopic,
      `topic ${topic} does not exist`,
      'UNKNOWN_TOPIC_OR_PARTITION',
      cause,
    );
  }
}
