import { BatchSender, SendContext } from './batch-sender';
import { classifyKafkaError } from './kafka-errors';
import { PendingRecord } from './pending-record';
import { SupervisedProducer } from './supervised-producer';

/** The queue of a topic whose partitions all live on one broker (see PartitionQueue). */
export const ALL_PARTITIONS = -1;

/**
 * One idempotent producer of the publisher's KAFKA_PRODUCER_IN_FLIGHT_PER_PARTITION, and how many batches
 * (of all queues) it carries now.
 */
export interface Lane {
  readonly producers: SupervisedProducer;
  busy: number;
}

/** What a partition's queue needs from the publisher that owns it. */
export interface QueueContext extends SendContext {
  /** The producers a queue's batches go out on, at most one batch of the queue on each at a time. */
  readonly lanes: readonly Lane[];
  readonly batchSizeBytes: number;
  readonly lingerMs: number;
  readonly maxRequestBytes: number;
}

/**
 * While a batch of the partition is in flight and its records arrive faster than one per this, the next
 * batch takes another lane no sooner than this after the last one went out. A broker that answers within it
 * (one node, no replication wait) keeps one request per partition in flight and its batches grow with load,
 * which costs the least CPU per record; on a cluster whose acks wait for replicas, requests overlap and a
 * record does not wait for the one ahead. At a slower rate the wait would gather no second record, so a
 * record takes a free lane at once.
 */
const LANE_SPACING_MS = 2;

/**
 * The gap between a queue's records, averaged over about the last eight (exponentially). A gap counts for at
 * most GAP_CAP_MS, so that after an idle minute a few close records show a fast stream again.
 */
const GAP_WEIGHT = 1 / 8;
const GAP_CAP_MS = 2 * LANE_SPACING_MS;

/** How many waiting records (of keys in flight) a batch passes over at most. */
const MAX_PASSED = 1024;

/**
 * One partition's records on their way to its leader, as the Java client's RecordAccumulator deque and
 * Sender do it: records wait until batch.size / linger.ms, or while every lane carries a batch of the
 * partition, then go out together in one produce request carrying only this partition, so a partition
 * whose leader is gone holds up its own records only.
 *
 * Up to one batch per lane is in flight (the Java client's max.in.flight.requests.per.connection): kafkajs'
 * idempotent producer serializes its requests per broker, so a second request in flight needs a second
 * producer. A batch takes a free lane, the least busy one, at once or, while records arrive faster than one
 * per LANE_SPACING_MS, LANE_SPACING_MS after the last at the earliest; what arrives in the same turn of the
 * event loop goes in one batch. A record whose key has a record in flight waits for it, so records with the
 * same key keep their order (with one lane, the partition's order whatever the keys). How a batch gets to
 * the broker is BatchSender's (batch-sender.ts).
 */
export class PartitionQueue {
  private readonly sender: BatchSender;
  private pending: PendingRecord[] = [];
  private bytes = 0;
  /** When the oldest waiting record arrived (linger is counted from it). */
  private since = 0;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  /** When the last batch went out (performance.now(): monotonic). */
  private lastSent = 0;
  /** When the last record arrived, and the average gap between records (see GAP_WEIGHT). */
  private lastArrival = 0;
  private gap = GAP_CAP_MS;
  /** The batches in flight, by the index of the lane each went out on. */
  private readonly inFlight = new Map<number, Promise<void>>();
  /** The key hashes of the records in flight, with their counts. */
  private readonly keysInFlight = new Map<number, number>();

  constructor(
    readonly topic: string,
    /**
     * The partition, or ALL_PARTITIONS for a topic whose partitions all live on one broker (a single node):
     * its records then go out together, one request per broker as the Java client's Sender sends them,
     * since kafkajs cannot split such a request between brokers.
     */
    readonly partition: number,
    private readonly context: QueueContext,
  ) {
    const name = partition === ALL_PARTITIONS ? topic : `${topic}-${partition}`;
    this.sender = new BatchSender(topic, name, context);
  }

  add(record: PendingRecord): void {
    const now = performance.now();
    this.gap += (Math.min(now - this.lastArrival, GAP_CAP_MS) - this.gap) * GAP_WEIGHT;
    this.lastArrival = now;
    if (this.pending.length === 0) {
      this.since = Date.now();
    }
    this.pending.push(record);
    this.bytes += record.size;
    this.schedule();
  }

  /** Resolves once nothing waits or is in flight (graceful shutdown sends what is queued first). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0 || this.pending.some((p) => !p.settled)) {
      this.flush();
      await Promise.all(this.inFlight.values());
    }
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.inFlight.size >= this.context.lanes.length) {
      return;
    }
    const waited = Date.now() - this.since;
    if (this.bytes < this.context.batchSizeBytes && waited < this.context.lingerMs) {
      this.timer ??= setTimeout(() => this.flush(), this.context.lingerMs - waited);
    } else if (this.inFlight.size === 0) {
      this.flush();
    } else {
      const wait = this.gap < LANE_SPACING_MS ? this.lastSent + LANE_SPACING_MS - performance.now() : 0;
      if (wait > 0) {
        this.timer ??= setTimeout(() => this.flush(), wait);
      } else {
        // Another lane: the records that arrive in this turn of the event loop go out together.
        this.immediate ??= setImmediate(() => this.flush());
      }
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const { lanes } = this.context;
    // A lane whose producer cannot connect takes a batch only when no lane can: while one node is down,
    // the producers that reach the cluster carry the partition, and its records do not fail with that one.
    const anyReachable = lanes.some((lane) => !lane.producers.isUnreachable);
    while (this.inFlight.size < lanes.length) {
      let free = -1;
      for (let i = 0; i < lanes.length; i += 1) {
        const usable = !this.inFlight.has(i) && !(anyReachable && lanes[i]!.producers.isUnreachable);
        if (usable && (free < 0 || lanes[i]!.busy < lanes[free]!.busy)) {
          free = i;
        }
      }
      const batch = free < 0 ? [] : this.take();
      if (batch.length === 0) {
        return; // nothing waits, or every usable lane carries a batch: a batch that ends calls schedule()
      }
      this.start(batch, free);
    }
  }

  /**
   * The next batch: the waiting records in order, up to max.request.size, but for those whose key has a
   * record in flight (they, and the later records of their keys, wait).
   */
  private take(): PendingRecord[] {
    const batch: PendingRecord[] = [];
    const rest: PendingRecord[] = [];
    let blocked: Set<number> | undefined;
    let bytes = 0;
    let taken = 0;
    for (; taken < this.pending.length; taken += 1) {
      const next = this.pending[taken]!;
      if (next.settled) {
        continue; // its deadline passed while it waited: never sent
      }
      if (batch.length > 0 && bytes + next.size > this.context.maxRequestBytes) {
        break;
      }
      if (this.keysInFlight.has(next.order) || blocked?.has(next.order)) {
        if (rest.length === MAX_PASSED) {
          break; // a hot key's backlog: the records behind it wait (bounds the scan)
        }
        (blocked ??= new Set()).add(next.order);
        rest.push(next);
        continue;
      }
      batch.push(next);
      bytes += next.size;
    }
    this.pending = taken === this.pending.length ? rest : rest.concat(this.pending.slice(taken));
    this.bytes = this.pending.reduce((sum, p) => sum + p.size, 0);
    this.since = Date.now();
    return batch;
  }

  private start(batch: PendingRecord[], index: number): void {
    this.lastSent = performance.now();
    const lane = this.context.lanes[index]!;
    lane.busy += 1;
    for (const p of batch) {
      this.keysInFlight.set(p.order, (this.keysInFlight.get(p.order) ?? 0) + 1);
    }
    const running = this.sender
      .send(batch, lane.producers)
      // Nothing in send() is meant to throw; should it, no record is left without an answer.
      .catch((error: unknown) => batch.forEach((p) => p.fail(classifyKafkaError(error), p.inRequest)))
      .finally(() => {
        lane.busy -= 1;
        this.inFlight.delete(index);
        for (const p of batch) {
          const count = this.keysInFlight.get(p.order)! - 1;
          if (count === 0) {
            this.keysInFlight.delete(p.order);
          } else {
            this.keysInFlight.set(p.order, count);
          }
        }
        this.schedule();
      });
    this.inFlight.set(index, running);
  }
}
