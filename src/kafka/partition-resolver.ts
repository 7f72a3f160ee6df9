import { Inject, Injectable } from '@nestjs/common';
import { Admin, ITopicMetadata, PartitionMetadata } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { KAFKA_ADMIN } from './kafka.constants';
import { partitionForKey } from './partitioner';

const METADATA_TTL_MS = 30_000;

/**
 * Picks each record's partition before it is sent, as the Java client's default partitioner does for a
 * keyed record (murmur2 of the key, see partitioner.ts), so that a coalesced produce request can hand every caller its own partition and offset:
 * same key, same partition.
 */
@Injectable()
export class PartitionResolver {
  private readonly cache = new Map<string, { partitions: PartitionMetadata[]; fetchedAt: number }>();
  private readonly pending = new Map<string, Promise<PartitionMetadata[]>>();

  constructor(@Inject(KAFKA_ADMIN) private readonly admin: Admin) {}

  /** The topic's partitions when they are known and fresh (no I/O). */
  cached(topic: string): PartitionMetadata[] | undefined {
    const cached = this.cache.get(topic);
    return cached && Date.now() - cached.fetchedAt < METADATA_TTL_MS ? cached.partitions : undefined;
  }

  async partitionsFor(topic: string): Promise<PartitionMetadata[]> {
    const cached = this.cached(topic);
    if (cached) {
      return cached;
    }
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
      const unknown = (error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
      throw new KafkaSendError(
        unknown ? KafkaFailureKind.UnknownTopic : KafkaFailureKind.Retriable,
        unknown
          ? `topic ${topic} does not exist`
          : `could not fetch metadata for ${topic}: ${(error as Error).message}`,
        unknown ? 'UNKNOWN_TOPIC_OR_PARTITION' : ((error as Error).name ?? 'Error'),
        error,
      );
    }
    if (!metadata || metadata.partitions.length === 0) {
      throw new KafkaSendError(
        KafkaFailureKind.UnknownTopic,
        `topic ${topic} does not exist`,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
    }
    const partitions = [...metadata.partitions].sort((a, b) => a.partitionId - b.partitionId);
    this.cache.set(topic, { partitions, fetchedAt: Date.now() });
    return partitions;
  }

  invalidate(topic: string): void {
    this.cache.delete(topic);
  }

  partitionOf(partitions: PartitionMetadata[], key: Buffer | string): number {
    return partitions[partitionForKey(key, partitions.length)]!.partitionId;
  }
}
