import { Inject, Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Admin } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { ComponentHealthIndicator, HealthComponent, report } from '../observability/health-indicator';
import { KafkaPublisher } from './kafka-publisher';
import { KAFKA_ADMIN } from './kafka.constants';
import { TopicProvisioner } from './topic-provisioner';

/**
 * The `kafka` health component (Spring's KafkaHealthIndicator): asks the cluster to describe itself,
 * bounded by HEALTH_TIMEOUT_MS and reused for HEALTH_CACHE_MS, so probes can neither hang nor hammer the
 * broker (concurrent probes share one request).
 */
@Injectable()
export class KafkaClusterHealth implements ComponentHealthIndicator {
  private readonly logger = new Logger(KafkaClusterHealth.name);
  private last?: { at: number; component: HealthComponent };
  private inFlight?: Promise<HealthComponent>;
  /**
   * The describeCluster request itself, kept until kafkajs settles it even when a check stopped waiting
   * for it at HEALTH_TIMEOUT_MS: the next check waits on it instead of asking again. A broker that stopped
   * answering thus gets one request, which kafkajs gives up after its request timeout and then asks
   * another broker (patches/), so the component is UP again a moment later.
   */
  private describing?: Promise<Awaited<ReturnType<Admin['describeCluster']>>>;

  constructor(
    @Inject(KAFKA_ADMIN) private readonly admin: Admin,
    private readonly indicators: HealthIndicatorService,
    private readonly config: AppConfig,
  ) {}

  async isHealthy(key: string): Promise<HealthIndicatorResult> {
    const { status, details } = await this.cluster();
    return report(this.indicators.check(key), status, details);
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
      this.describing ??= this.admin
        .connect()
        .then(() => this.admin.describeCluster())
        .finally(() => {
          this.describing = undefined;
        });
      const cluster = await Promise.race([this.describing, timeout]);
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
}

/**
 * The `kafkaProducer` health component: the single-message producers, UP while one of them is connected
 * (KafkaPublisher.producerConnected). When none is while the cluster answers, they are nudged to connect
 * (bounded and coalesced by SupervisedProducer), so readiness cannot wait forever for a send that an
 * unready instance would never receive.
 */
@Injectable()
export class KafkaProducerHealth implements ComponentHealthIndicator {
  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: TopicProvisioner,
    private readonly cluster: KafkaClusterHealth,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isHealthy(key: string): Promise<HealthIndicatorResult> {
    const connected = this.publisher.producerConnected;
    if (!connected && (await this.cluster.cluster()).status === 'UP') {
      this.publisher.reconnect();
    }
    return report(this.indicators.check(key), connected ? 'UP' : 'DOWN', {
      connected,
      topicsProvisioned: this.topics.provisioned,
    });
  }
}

/** KafkaModule's health indicators (providers of the module, listed in HEALTH_COMPONENTS). */
export const KAFKA_HEALTH_INDICATORS = [KafkaClusterHealth, KafkaProducerHealth];
