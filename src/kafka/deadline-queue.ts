/** The timer behind the one send deadline (SEND_TIMEOUT_MS, see send-policy.ts). */

const NOOP = (): void => {};

/** One caller's deadline, as `start` returns it: hand it back to `settle`. */
export interface Deadline {
  readonly at: number;
  onExpire: () => void;
  settled: boolean;
}

/**
 * Deadlines that all have the same length, so they expire in the order they were set: one timer serves
 * every waiting send (a timer and a promise race per request cost more than the send's own bookkeeping).
 */
export class DeadlineQueue {
  private queue: Deadline[] = [];
  private head = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number) {}

  start(onExpire: () => void): Deadline {
    const entry: Deadline = { at: Date.now() + this.timeoutMs, onExpire, settled: false };
    this.queue.push(entry);
    this.timer ??= setTimeout(() => this.expire(), this.timeoutMs);
    return entry;
  }

  /** The caller was answered before its deadline: true, or false if the deadline had already expired. */
  settle(entry: Deadline): boolean {
    if (entry.settled) {
      return false;
    }
    entry.settled = true;
    // The entry may wait in the queue behind older ones: let go of the caller's state now.
    entry.onExpire = NOOP;
    this.dropSettled();
    return true;
  }

  private dropSettled(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.settled) {
      this.head += 1;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      clearTimeout(this.timer);
      this.timer = undefined;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.head < this.queue.length && this.queue[this.head]!.at <= now) {
      const entry = this.queue[this.head]!;
      this.head += 1;
      if (!entry.settled) {
        entry.settled = true;
        entry.onExpire();
      }
    }
    this.dropSettled();
    const next = this.queue[this.head];
    if (next) {
      this.timer = setTimeout(() => this.expire(), Math.max(0, next.at - now));
    }
  }
}
