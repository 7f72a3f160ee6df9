/** Micrometer's defaults for a distribution's max (DistributionStatisticConfig): 2 minutes, 3 buffers. */
export const MAX_EXPIRY_MS = 120_000;
export const MAX_BUFFER_LENGTH = 3;

/**
 * The largest sample of the recent past, as Micrometer's TimeWindowMax keeps it: a ring of buffers that each
 * take every sample, the oldest cleared and made newest every expiry / bufferLength, so a sample counts for
 * between expiry × (bufferLength − 1) / bufferLength and expiry, and the max of a quiet timer decays to 0.
 */
export class TimeWindowMax {
  private readonly buffers: number[];
  private current = 0;
  private lastRotation: number;
  private readonly rotationMs: number;

  constructor(
    private readonly now: () => number = Date.now,
    expiryMs = MAX_EXPIRY_MS,
    bufferLength = MAX_BUFFER_LENGTH,
  ) {
    this.buffers = new Array<number>(bufferLength).fill(0);
    this.rotationMs = expiryMs / bufferLength;
    this.lastRotation = now();
  }

  record(sample: number): void {
    this.rotate();
    for (let i = 0; i < this.buffers.length; i += 1) {
      if (sample > this.buffers[i]!) {
        this.buffers[i] = sample;
      }
    }
  }

  /** The max of the current window; 0 when nothing was recorded in it. */
  poll(): number {
    this.rotate();
    return this.buffers[this.current]!;
  }

  private rotate(): void {
    let elapsed = this.now() - this.lastRotation;
    if (elapsed < this.rotationMs) {
      return;
    }
    if (elapsed >= this.rotationMs * this.buffers.length) {
      // Quiet for a whole window: every buffer is stale.
      this.buffers.fill(0);
      this.current = 0;
      this.lastRotation += elapsed - (elapsed % this.rotationMs);
      return;
    }
    while (elapsed >= this.rotationMs) {
      this.buffers[this.current] = 0;
      this.current = (this.current + 1) % this.buffers.length;
      elapsed -= this.rotationMs;
      this.lastRotation += this.rotationMs;
    }
  }
}
