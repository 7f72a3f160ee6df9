import { Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { CustomTransportStrategy, ReadPacket, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom, Observable, throwError } from 'rxjs';
import { ConsumedRecord, ConsumerRunner, ConsumerRunnerFactory } from './consumer-runner';
import { KafkaRecordContext } from './kafka-record.context';

/** Identifies this transport to Nest's processing hooks. */
export const KAFKA_TRANSPORT = Symbol('KafkaTransport');

/** What one pattern consumes: a topic, in a group of its own. */
export interface ConsumerBinding {
  topic: string;
  groupId: string;
}

export interface KafkaTransportOptions {
  /**
   * Each logical pattern an `@EventPattern` handler may name, and what it consumes (from configuration);
   * null for a consumer switched off, whose handler then receives nothing.
   */
  consumers: Record<string, ConsumerBinding | null>;
  /** Told when the consumer of a group joins it (true) or loses it (false). */
  membershipChanged?: (groupId: string, inGroup: boolean) => void;
}

/**
 * The service's own Kafka transport for Nest microservices (`@EventPattern`, `@Payload()`, `@Ctx()`, with
 * pipes, interceptors and filters): each pattern is a logical name the configuration resolves to a topic and
 * a consumer group, consumed by a ConsumerRunner (auto-commit off, earliest, one record at a time per
 * partition, rebuilt in the background when kafkajs gives up).
 *
 * Unlike Nest's ServerKafka it never waits for the broker: `listen` returns at once and the runners join their
 * groups in the background, so the HTTP side starts with Kafka down. Each record goes to its handler as an
 * event: the payload is the record's value as bytes (null when it has none; the handler's pipes decide what it
 * means), the context a KafkaRecordContext with the byte-exact record. The record is committed only once the
 * handler's result (a value, a promise or an observable) completed; if it failed, it stays uncommitted and
 * kafkajs delivers it again (Spring Kafka's manual ack: `ack.acknowledge()` after the listener returned).
 */
export class KafkaTransport extends Server implements CustomTransportStrategy {
  private readonly runners = new Map<string, ConsumerRunner>();
  private readonly log = new Logger(KafkaTransport.name);

  constructor(
    private readonly factory: ConsumerRunnerFactory,
    private readonly options: KafkaTransportOptions,
  ) {
    super();
    this.transportId = KAFKA_TRANSPORT;
  }

  /** Starts one consumer per handled pattern, in the background; an unknown pattern fails start-up. */
  listen(callback: (error?: unknown) => void): void {
    const patterns = [...this.messageHandlers.keys()];
    const unknown = patterns.filter((pattern) => !(pattern in this.options.consumers));
    const requestResponse = patterns.filter((pattern) => !this.messageHandlers.get(pattern)?.isEventHandler);
    if (unknown.length > 0 || requestResponse.length > 0) {
      callback(
        new Error(
          unknown.length > 0
            ? `no consumer is configured for the pattern(s) ${unknown.join(', ')} ` +
                `(known: ${Object.keys(this.options.consumers).join(', ')})`
            : `KafkaTransport takes @EventPattern handlers only (got @MessagePattern ${requestResponse.join(', ')})`,
        ),
      );
      return;
    }
    for (const pattern of patterns) {
      const binding = this.options.consumers[pattern];
      if (!binding || this.runners.has(pattern)) {
        continue;
      }
      const runner = this.factory.create({
        name: `KafkaTransport(${pattern})`,
        groupId: binding.groupId,
        topic: binding.topic,
        handle: (record, heartbeat) => this.consume(pattern, record, heartbeat),
        membershipChanged: (inGroup) => this.options.membershipChanged?.(binding.groupId, inGroup),
      });
      this.runners.set(pattern, runner);
      runner.start();
    }
    callback();
  }

  /** The consumer behind a pattern (undefined before listen, or when it is switched off). */
  consumerOf(pattern: string): ConsumerRunner | undefined {
    return this.runners.get(pattern);
  }

  private consume(pattern: string, record: ConsumedRecord, heartbeat: () => Promise<void>): Promise<void> {
    const context = new KafkaRecordContext(record, heartbeat);
    return this.handleEvent(pattern, { pattern, data: record.value }, context);
  }

  /**
   * Runs the pattern's handler and waits for its result, as ServerKafka does for events: the runner commits
   * the record when this resolves, and not when it rejects. (Server's own handleEvent neither waits for an
   * observable nor lets its error through.)
   */
  override async handleEvent(
    pattern: string,
    packet: ReadPacket,
    context: KafkaRecordContext,
  ): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      throw new Error(`no handler for the pattern ${pattern}`);
    }
    const id = this.transportId ?? KAFKA_TRANSPORT;
    const run = async (): Promise<void> => {
      const result: unknown = await handler(packet.data, context);
      if (isObservable(result)) {
        await lastValueFrom(result, { defaultValue: undefined });
      }
      this.onProcessingEndHook?.(id, context);
    };
    // The hook (instrumentation may wrap it) decides when processing starts; the outcome comes back here.
    await new Promise<void>((resolve, reject) => {
      this.onProcessingStartHook(id, context, () => run().then(resolve, reject));
    });
  }

  /**
   * Every consumer leaves its group: kafkajs finishes the record in hand (committed once its handler
   * completed), then disconnects. Nest calls this from app.close(), after the beforeApplicationShutdown hooks
   * and before the onApplicationShutdown ones (src/lifecycle.ts, step 4).
   */
  async close(): Promise<void> {
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
    this.log.log(`stopped ${this.runners.size} consumer(s)`);
  }

  /** Status events are not emitted: the health indicators read each consumer's state instead. */
  on(): never {
    throw new Error('KafkaTransport emits no events; read consumerOf(pattern).state');
  }

  /** The consumers, by pattern. */
  unwrap<T>(): T {
    return this.runners as T;
  }
}

/**
 * For controllers on the KafkaTransport: a handler's error reaches the transport as it was thrown (so the
 * record stays uncommitted and the consumer's health names the real cause), not as Nest's generic
 * "Internal server error", which is meant for a reply the transport never sends.
 */
@Catch()
export class PassRecordErrorsFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
