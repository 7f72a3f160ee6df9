/**
 * Polls `probe` until it returns without throwing (then returns its value) or `timeoutMs` passes (then
 * throws the last failure). For effects that happen in the background: consumed records, commits.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 15000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() >= deadline) {
        throw error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
