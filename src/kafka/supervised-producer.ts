import { Logger } from '@nestjs/common';
import { Kafka, Producer, ProducerConfig } from 'kafkajs';
import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { classifyKafkaError } from './kafka-errors';

const RECONNECT_EVERY_MS = 1000;

/** Hooks the metrics layer uses to watch every producer instance, including replacements. */
export interface ProducerObserver {
  attach(producer: Producer, name: string): void;
  connectionChanged(name: string, connected: boolean): void;
  replaced(name: string, reason: string): void;
}

/** A producer held for one batch until release(); retire() when its state is out of step with the broker. */
export interface ProducerLease {
  readonly producer: Producer;
  retire(reason: string): void;
  release(): void;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One kafkajs producer that heals itself: it connects lazily (bounded by a timeout, so a send never hangs
 * on a dead cluster), and is retired and rebuilt when the caller says its state is out of step with the
 * broker (send-policy.ts says when). Not on mere connection trouble or a leader change: a new producer
 * gets a new producer id, and the broker could no longer recognise a resent batch as a copy.
 */
export class SupervisedProducer {
  private readonly logger: Logger;
  private producer?: Producer;
  private connecting?: Promise<Producer>;
  private connected = false;
  private closed = false;
  /** Set while Kafka is unreachable: sends fail fast, and a background loop keeps reconnecting. */
  private unreachable?: KafkaSendError;
  private reconnectTimer?: NodeJS.Timeout;
  /** Producers held by a batch (see lease()), with how many leases each. */
  private readonly leases = new Map<Producer, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly config: ProducerConfig,
    readonly name: string,
    private readonly connectTimeoutMs: number,
    private readonly observer?: ProducerObserver,
  ) {
    this.logger = new Logger(`Producer:${name}`);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Whether its last connection attempt failed (it keeps reconnecting in the background meanwhile). */
  get isUnreachable(): boolean {
    return this.unreachable !== undefined;
  }

  /**
   * The connected producer, connecting (or reconnecting) first if needed. While the last connection
   * attempt failed, it throws at once (Unreachable) instead of making every caller wait for a timeout.
   */
  async get(): Promise<Producer> {
    if (this.closed) {
      throw new KafkaSendError(
        KafkaFailureKind.Unreachable,
        `producer ${this.name} is closed`,
        'ProducerClosed',
      );
    }
    if (this.producer && this.connected) {
      return this.producer;
    }
    if (this.unreachable) {
      this.startConnecting().catch(() => undefined);
      const last = this.unreachable;
      // Refused credentials or ACLs stay what they are; only connection trouble becomes "unreachable".
      if (last.kind !== KafkaFailureKind.Retriable) {
        throw last;
      }
      throw new KafkaSendError(
        KafkaFailureKind.Unreachable,
        `Kafka is unreachable: ${last.message}`,
        'KafkaUnreachable',
      );
    }
    return this.startConnecting();
  }

  private startConnecting(): Promise<Producer> {
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Producer> {
    const producer = this.producer ?? this.create();
    try {
      await withTimeout(producer.connect(), this.connectTimeoutMs, `connecting producer ${this.name}`);
      // Connected only now: kafkajs emits CONNECT before it asks for the idempotent producer's id, and a
      // send in that gap would go out with no producer id (not idempotent), or fail inside kafkajs.
      this.setConnected(producer, true);
      if (this.unreachable) {
        this.logger.log('reconnected to Kafka');
      }
      this.unreachable = undefined;
      return producer;
    } catch (error) {
      // A half-connected kafkajs producer keeps retrying on its own; drop it and start clean next time.
      await this.discard(producer);
      this.unreachable = classifyKafkaError(error);
      this.scheduleReconnect();
      throw this.unreachable;
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) {
      return;
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.startConnecting().catch(() => undefined);
    }, RECONNECT_EVERY_MS);
    this.reconnectTimer.unref();
  }

  private create(): Producer {
    const producer = this.kafka.producer(this.config);
    producer.on(producer.events.DISCONNECT, () => this.setConnected(producer, false));
    this.observer?.attach(producer, this.name);
    this.producer = producer;
    return producer;
  }

  private setConnected(producer: Producer, connected: boolean): void {
    if (producer === this.producer) {
      this.connected = connected;
      this.observer?.connectionChanged(this.name, connected);
    }
  }

  /**
   * The connected producer, held until `release()`: a batch whose request may have been appended is resent
   * on the producer that first sent it (same producer id, same sequence numbers), even after that producer
   * was retired. A retired producer is disconnected when its last lease is released.
   */
  async lease(): Promise<ProducerLease> {
    const producer = await this.get();
    this.leases.set(producer, (this.leases.get(producer) ?? 0) + 1);
    let released = false;
    return {
      producer,
      retire: (reason: string) => {
        void this.retire(producer, reason);
      },
      release: () => {
        if (released) {
          return;
        }
        released = true;
        const left = this.leases.get(producer)! - 1;
        if (left > 0) {
          this.leases.set(producer, left);
          return;
        }
        this.leases.delete(producer);
        if (producer !== this.producer) {
          void this.disconnect(producer);
        }
      },
    };
  }

  /**
   * Stops handing out `producer` (when it is the current one): the next get() builds and connects a new one,
   * with a new producer id. It is disconnected now, or when its last lease is released.
   */
  private retire(producer: Producer, reason: string): Promise<void> {
    if (producer !== this.producer) {
      return Promise.resolve();
    }
    this.logger.warn(`replacing the producer: ${reason}`);
    this.observer?.replaced(this.name, reason);
    this.producer = undefined;
    this.connected = false;
    this.observer?.connectionChanged(this.name, false);
    return this.leases.has(producer) ? Promise.resolve() : this.disconnect(producer);
  }

  /** Throws the current producer away; the next get() builds and connects a new one. */
  async replace(reason: string): Promise<void> {
    if (this.producer) {
      await this.retire(this.producer, reason);
    }
  }

  private async discard(producer: Producer): Promise<void> {
    if (producer === this.producer) {
      this.producer = undefined;
      this.connected = false;
      this.observer?.connectionChanged(this.name, false);
    }
    await this.disconnect(producer);
  }

  private disconnect(producer: Producer): Promise<void> {
    return withTimeout(producer.disconnect(), this.connectTimeoutMs, 'disconnect').catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    // A connection attempt under way (bounded by its timeout) settles first, so nothing of it outlives close().
    await this.connecting?.catch(() => undefined);
    const producer = this.producer;
    if (producer) {
      await this.discard(producer);
    }
    // Producers retired while a batch still held them: nothing more is sent on them after close.
    await Promise.all([...this.leases.keys()].map((leased) => this.disconnect(leased)));
    this.leases.clear();
  }
}
