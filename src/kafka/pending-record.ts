import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { OutgoingRecord, RecordAck, SendOutcome } from './records';

/**
 * One record between the port and the broker, and the one place its outcome is decided: it settles
 * exactly once (acknowledged, failed or expired), and its caller gets exactly one SendOutcome. A record
 * whose deadline passed while a produce request carried it is answered `unknown` at once; what the broker
 * says later resolves that answer's `settled`.
 */
export class PendingRecord {
  /** Whether a produce request carrying the record was sent (and not certainly refused since). */
  inRequest = false;
  /** The partition it goes to, once the topic's metadata chose it. */
  partition = -1;
  /** Its key's hash (-1 without a key): a record waits while one with the same key is in flight. */
  order = -1;
  private done = false;
  private answered = false;
  private late?: (ack: RecordAck | undefined) => void;

  constructor(
    readonly record: OutgoingRecord,
    readonly size: number,
    /** Epoch ms: when the caller stops waiting (SEND_TIMEOUT_MS after it handed the record over). */
    readonly deadline: number,
    private readonly answer: (outcome: SendOutcome) => void,
  ) {}

  /** Settled: nothing more is sent for it (a record expired in its queue is skipped). */
  get settled(): boolean {
    return this.done;
  }

  acknowledge(ack: RecordAck): void {
    if (this.settle()) {
      this.reply({ status: 'acknowledged', ack }, ack);
    }
  }

  /** The record failed: `maybeWritten` when a request carrying it may have been appended. */
  fail(error: KafkaSendError, maybeWritten: boolean): void {
    if (!this.settle()) {
      return;
    }
    this.reply(
      maybeWritten
        ? { status: 'unknown', error, settled: Promise.resolve(undefined) }
        : { status: 'not-sent', error },
      undefined,
    );
  }

  /** The caller's deadline: answered now, `not-sent` if no request carried it, else `unknown`. */
  expire(timeoutMs: number): void {
    if (this.done || this.answered) {
      return;
    }
    if (!this.inRequest) {
      this.done = true;
      this.answered = true;
      this.answer({
        status: 'not-sent',
        error: new KafkaSendError(
          KafkaFailureKind.Unreachable,
          `Kafka did not take the record within ${timeoutMs} ms`,
          'SendTimeout',
        ),
      });
      return;
    }
    this.answered = true;
    const settled = new Promise<RecordAck | undefined>((resolve) => (this.late = resolve));
    this.answer({
      status: 'unknown',
      error: new KafkaSendError(
        KafkaFailureKind.Retriable,
        `no acknowledgement from Kafka within ${timeoutMs} ms`,
        'SendTimeout',
      ),
      settled,
    });
  }

  private settle(): boolean {
    if (this.done) {
      return false;
    }
    this.done = true;
    return true;
  }

  private reply(outcome: SendOutcome, lateAck: RecordAck | undefined): void {
    if (this.answered) {
      this.late?.(lateAck);
      return;
    }
    this.answered = true;
    this.answer(outcome);
  }
}
