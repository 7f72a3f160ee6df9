import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { estimatedRecordBytes, OutgoingRecord, RecordAck, RecordOutcome } from '../kafka/record-sender';

export interface AccumulatorOptions {
  /** Send as soon as this many bytes wait (the Java client's batch.size). */
  batchSizeBytes: number;
  /** Otherwise wait at most this long for more records (linger.ms). */
  lingerMs: number;
  /** Upper bound of one produce request's record bytes. */
  maxRequestBytes: number;
}

type SendFn = (topic: string, records: OutgoingRecord[]) => Promise<RecordOutcome[]>;

/** What a record whose caller stopped waiting before it was sent settles with (nobody reads it). */
const notSent = (): KafkaSendError =>
  new KafkaSendError(
    KafkaFailureKind.Unreachable,
    'the send deadline passed before the record was sent',
    'SendCancelled',
  );

function settle(p: Pending, outcome: RecordOutcome): void {
  if (outcome instanceof KafkaSendError) {
    p.reject(outcome);
  } else if (outcome) {
    p.resolve(outcome);
  } else {
    p.reject(notSent());
  }
}

interface Pending {
  record: OutgoingRecord;
  size: number;
  resolve: (ack: RecordAck) => void;
  reject: (error: unknown) => void;
}

interface TopicQueue {
  pending: Pending[];
  bytes: number;
  /** When the oldest pending record arrived (linger is counted from it, as in the Java client). */
  since: number;
  timer?: NodeJS.Timeout;
  inFlight?: Promise<void>;
}

/**
 * Coalesces concurrent sends into one produce request per topic, like the Java client's linger.ms and
 * batch.size: a record waits until `batchSizeBytes` are queued or `lingerMs` passed, whichever is first.
 * One request per topic is in flight at a time (the idempotent producer serializes them anyway); what
 * queues meanwhile goes out in the next request as soon as it returns. Every caller gets its own ack.
 */
export class RecordAccumulator {
  private readonly queues = new Map<string, TopicQueue>();

  constructor(
    private readonly sendBatch: SendFn,
    private readonly options: AccumulatorOptions,
    private readonly onRequest?: (records: number, bytes: number) => void,
    /** When a coalesced request fails with this error, each record is retried alone (one bad record must not fail its neighbours). */
    private readonly isolateOn: (error: unknown) => boolean = () => false,
  ) {}

  add(topic: string, record: OutgoingRecord): Promise<RecordAck> {
    const queue = this.queue(topic);
    const size = estimatedRecordBytes(record);
    return new Promise<RecordAck>((resolve, reject) => {
      if (queue.pending.length === 0) {
        queue.since = Date.now();
      }
      queue.pending.push({ record, size, resolve, reject });
      queue.bytes += size;
      this.schedule(topic, queue);
    });
  }

  /** Sends now if the batch is full or has lingered long enough, else arms the linger timer. */
  private schedule(topic: string, queue: TopicQueue): void {
    if (queue.inFlight || queue.pending.length === 0) {
      return;
    }
    const waited = Date.now() - queue.since;
    if (queue.bytes >= this.options.batchSizeBytes || waited >= this.options.lingerMs) {
      this.flush(topic, queue);
    } else {
      queue.timer ??= setTimeout(() => this.flush(topic, queue), this.options.lingerMs - waited);
    }
  }

  /** Resolves when nothing is queued or in flight (for graceful shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      const busy = [...this.queues.entries()].filter(
        ([, q]) => q.inFlight !== undefined || q.pending.length > 0,
      );
      if (busy.length === 0) {
        return;
      }
      for (const [topic, queue] of busy) {
        if (!queue.inFlight) {
          this.flush(topic, queue);
        }
      }
      await Promise.all(busy.map(([, q]) => q.inFlight ?? Promise.resolve()));
    }
  }

  /** Settles each record with its outcome; records that failed with an isolating error are retried alone. */
  private async isolate(topic: string, batch: Pending[], outcomes: unknown[]): Promise<void> {
    const alone: Pending[] = [];
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof Error && !(outcome instanceof KafkaSendError)) {
        p.reject(outcome);
      } else if (batch.length > 1 && outcome instanceof Error && this.isolateOn(outcome)) {
        alone.push(p);
      } else {
        settle(p, outcome as RecordOutcome);
      }
    });
    for (const p of alone) {
      await this.sendBatch(topic, [p.record]).then(([outcome]) => settle(p, outcome), p.reject);
    }
  }

  private queue(topic: string): TopicQueue {
    let queue = this.queues.get(topic);
    if (!queue) {
      queue = { pending: [], bytes: 0, since: 0 };
      this.queues.set(topic, queue);
    }
    return queue;
  }

  private flush(topic: string, queue: TopicQueue): void {
    clearTimeout(queue.timer);
    queue.timer = undefined;
    // The timer fired during a request: schedule() runs again when it returns.
    if (queue.inFlight) {
      return;
    }
    // Records whose callers stopped waiting are dropped, never sent.
    if (queue.pending.some((p) => p.record.ticket?.cancelled)) {
      for (const p of queue.pending.filter((q) => q.record.ticket?.cancelled)) {
        queue.bytes -= p.size;
        p.reject(notSent());
      }
      queue.pending = queue.pending.filter((p) => !p.record.ticket?.cancelled);
    }
    if (queue.pending.length === 0) {
      return;
    }
    let bytes = 0;
    let count = 0;
    while (count < queue.pending.length) {
      const next = queue.pending[count]!;
      if (count > 0 && bytes + next.size > this.options.maxRequestBytes) {
        break;
      }
      bytes += next.size;
      count += 1;
    }
    const batch = queue.pending.splice(0, count);
    queue.bytes -= bytes;
    queue.since = Date.now();
    this.onRequest?.(batch.length, bytes);
    queue.inFlight = this.sendBatch(
      topic,
      batch.map((p) => p.record),
    )
      .then(
        (outcomes) => this.isolate(topic, batch, outcomes),
        (error: unknown) =>
          this.isolate(
            topic,
            batch,
            batch.map(() => error),
          ),
      )
      .finally(() => {
        queue.inFlight = undefined;
        this.schedule(topic, queue);
      });
  }
}
