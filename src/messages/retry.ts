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
