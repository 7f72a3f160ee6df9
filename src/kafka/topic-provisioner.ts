import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Admin } from 'kafkajs';
import { AppConfig, TopicSpec } from '../config/app-config';
import { KAFKA_ADMIN } from './kafka.constants';

const RETRY_EVERY_MS = 5000;

/**
 * What the cluster cannot give the configured topics: more replicas than brokers (creation fails), or a
 * min.insync.replicas above the replication factor or the broker count (every acks=all write fails with
 * NOT_ENOUGH_REPLICAS).
 */
export function replicationWarnings(topics: readonly TopicSpec[], brokers: number): string[] {
  const warnings: string[] = [];
  for (const topic of topics) {
    const minIsr = Number(topic.configs['min.insync.replicas'] ?? 1);
    if (topic.replicationFactor > brokers) {
      warnings.push(
        `Topic ${topic.name} asks for replication factor ${topic.replicationFactor}, but the cluster has ${brokers} broker(s): it cannot be created until enough brokers join`,
      );
    }
    if (minIsr > topic.replicationFactor) {
      warnings.push(
        `Topic ${topic.name} asks for min.insync.replicas=${minIsr} above its replication factor ${topic.replicationFactor}: every write will fail with NOT_ENOUGH_REPLICAS`,
      );
    } else if (minIsr > brokers) {
      warnings.push(
        `Topic ${topic.name} asks for min.insync.replicas=${minIsr}, but the cluster has ${brokers} broker(s): writes fail until enough brokers join`,
      );
    }
  }
  return warnings;
}

/**
 * Creates the service's topics at start-up if they are missing, with partitions, replication factor and
 * configs from configuration (the seed's NewTopic beans). An existing topic is left alone; a different
 * partition count or replication factor is only logged, and so is a replication factor or
 * min.insync.replicas the cluster cannot meet. If Kafka is down, start-up goes on and provisioning retries in the
 * background; readiness reports it.
 */
@Injectable()
export class TopicProvisioner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TopicProvisioner.name);
  private timer?: NodeJS.Timeout;
  private done = false;
  private stopped = false;

  constructor(
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    private readonly config: AppConfig,
  ) {}

  get provisioned(): boolean {
    return this.done;
  }

  /** The topics to create, as configuration derives them (AppConfig.provisionedTopics). */
  topics(): readonly TopicSpec[] {
    return this.config.provisionedTopics;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.attempt();
  }

  private async attempt(): Promise<void> {
    try {
      await this.provision();
      this.done = true;
    } catch (error) {
      this.logger.error(
        `Failed to create topic(s) ${this.topics()
          .map((t) => t.name)
          .join(', ')}: ${(error as Error).message}; retrying every ${RETRY_EVERY_MS / 1000} s`,
      );
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.attempt(), RETRY_EVERY_MS);
        this.timer.unref();
      }
    }
  }

  /** Creates what is missing; returns the names it created. */
  async provision(): Promise<string[]> {
    const wanted = this.topics();
    await this.admin.connect();
    const { brokers } = await this.admin.describeCluster();
    for (const warning of replicationWarnings(wanted, brokers.length)) {
      this.logger.warn(warning);
    }
    const existing = new Set(await this.admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor,
          configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
        })),
      });
      this.logger.log(
        `Created topic(s) ${missing.map((t) => `${t.name} (${t.partitions} partitions)`).join(', ')}`,
      );
    }
    const present = wanted.filter((t) => existing.has(t.name));
    if (present.length > 0) {
      const { topics } = await this.admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
      for (const topic of topics) {
        const spec = present.find((t) => t.name === topic.name);
        if (spec && topic.partitions.length !== spec.partitions) {
          this.logger.warn(
            `Topic ${topic.name} exists with ${topic.partitions.length} partitions; configuration asks for ${spec.partitions}. Left as it is.`,
          );
        }
        const replicas = Math.min(...topic.partitions.map((p) => p.replicas.length));
        if (spec && replicas < spec.replicationFactor) {
          this.logger.warn(
            `Topic ${topic.name} exists with ${replicas} replica(s) per partition; configuration asks for ${spec.replicationFactor}. Left as it is.`,
          );
        }
      }
    }
    return missing.map((t) => t.name);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
