import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Admin } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { HealthComponent, HealthRegistry } from '../observability/health-registry';
import { KAFKA_ADMIN, KAFKA_PRODUCER } from './kafka.constants';
import { KafkaPublisher } from './kafka-publisher';
import { SupervisedProducer } from './supervised-producer';
import { TopicProvisioner } from './topic-provisioner';

/**
 * The Kafka components of /actuator/health (Spring's KafkaHealthIndicator): `kafka` asks the cluster to
 * describe itself, bounded by HEALTH_TIMEOUT_MS and reused for HEALTH_CACHE_MS, so probes can neither hang
 * nor hammer the broker (concurrent probes share one request); `kafkaProducer` reports the idempotent
 * producer. Both gate readiness.
 */
@Injectable()
export class KafkaHealth implements OnModuleInit {
  private readonly logger = new Logger(KafkaHealth.name);
  private last?: { at: number; component: HealthComponent };
  private inFlight?: Promise<HealthComponent>;

  constructor(
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    @Inject(KAFKA_PRODUCER) private readonly producer: SupervisedProducer,
    private readonly publisher: KafkaPublisher,
    private readonly topics: TopicProvisioner,
    private readonly registry: HealthRegistry,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register('kafka', () => this.cluster(), { readiness: true });
    this.registry.register('kafkaProducer', () => this.producerComponent(), { readiness: true });
  }

  /** The cluster's state: a cached answer while fresh, else one describeCluster shared by all callers. */
  async cluster(): Promise<HealthComponent> {
    const { cacheMs } = this.config.health;
    if (this.last && Date.now() - this.last.at < cacheMs) {
      return this.last.component;
    }
    this.inFlight ??= this.describe().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async describe(): Promise<HealthComponent> {
    const { timeoutMs } = this.config.health;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    let component: HealthComponent;
    try {
      const cluster = await Promise.race([
        this.admin.connect().then(() => this.admin.describeCluster()),
        timeout,
      ]);
      component = {
        status: 'UP',
        details: {
          clusterId: cluster.clusterId,
          brokerCount: cluster.brokers.length,
          controllerId: cluster.controller,
          responseTimeMs: Date.now() - started,
        },
      };
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      component = { status: 'DOWN', details: { error: `${name}: ${message}` } };
    } finally {
      clearTimeout(timer);
    }
    if (this.last && this.last.component.status !== component.status) {
      this.logger.warn(`Kafka cluster is ${component.status}`);
    }
    this.last = { at: Date.now(), component };
    return component;
  }

  /**
   * The idempotent producer. A producer that is not connected while the cluster answers is nudged to
   * connect (bounded and coalesced by SupervisedProducer), so readiness cannot wait forever for a send
   * that an unready instance would never receive.
   */
  async producerComponent(): Promise<HealthComponent> {
    const connected = this.publisher.producerConnected;
    if (!connected && (await this.cluster()).status === 'UP') {
      this.producer.get().catch(() => undefined);
    }
    return {
      status: connected ? 'UP' : 'DOWN',
      details: { connected, topicsProvisioned: this.topics.provisioned },
    };
  }
}
