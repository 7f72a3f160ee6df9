export interface RetryPolicy {
  attempts: number;
  initialBackoffMs: number;
  multiplier: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The seed's @Retryable(backoff = @Backoff(delay = 1000, multiplier = 2)): runs `fn` up to `attempts`
 * times while `isRetriable` says so, waiting initialBackoffMs, then ×multiplier, between attempts. No
 * attempt starts after `deadline` (epoch ms): the last error is thrown instead of sleeping past it.
 */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  isRetriable: (error: unknown) => boolean,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
  deadline = Infinity,
): Promise<T> {
  let delay = policy.initialBackoffMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !isRetriable(error) || Date.now() + delay >= deadline) {
        throw error;
      }
      onRetry?.(error, attempt, delay);
      await sleep(delay);
      delay = Math.round(delay * policy.multiplier);
    }
  }
}

const NOOP = (): void => {};

interface Deadline {
  at: number;
  onExpire: () => void;
  settled: boolean;
}

/**
 * Deadlines that all have the same length, so they expire in the order they were set: one timer serves
 * every waiting send (a timer and a promise race per request cost more than the send's own bookkeeping).
 * `settle` returns false once the deadline has expired (the caller was already answered).
 */
export class DeadlineQueue {
  private queue: Deadline[] = [];
  private head = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number) {}

  start(onExpire: () => void): { settle(): boolean } {
    const entry: Deadline = { at: Date.now() + this.timeoutMs, onExpire, settled: false };
    this.queue.push(entry);
    this.timer ??= setTimeout(() => this.expire(), this.timeoutMs);
    return {
      settle: (): boolean => {
        if (entry.settled) {
          return false;
        }
        entry.settled = true;
        // The entry may wait in the queue behind older ones: let go of the caller's state now.
        entry.onExpire = NOOP;
        this.dropSettled();
        return true;
      },
    };
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
