/** A closed-loop load of `workers` concurrent callers, each POSTing one message after another. */
export interface LoadResult {
  /** Message ids the service answered 200 for. */
  ok: string[];
  /** Non-200 statuses, and 0 for a refused or broken connection. */
  failures: number[];
  /** When each answer came, with its status (0: connection error), when its request began and the error code. */
  timeline: { at: number; status: number; startedAt: number; code?: string }[];
}

export function steadyLoad(
  url: string,
  options: { workers: number; pauseMs: number; marker: string },
): { stop: () => Promise<LoadResult>; current: LoadResult } {
  const result: LoadResult = { ok: [], failures: [], timeline: [] };
  let running = true;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running; i += 1) {
      let status = 0;
      let code: string | undefined;
      const startedAt = Date.now();
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: `${options.marker} w${w} n${i}`, source: options.marker }),
          signal: AbortSignal.timeout(30_000),
        });
        status = response.status;
        const body = (await response.json()) as { messageId?: string; code?: string };
        if (status === 200 && body.messageId) {
          result.ok.push(body.messageId);
        }
        code = body.code;
      } catch {
        status = 0;
      }
      if (status !== 200) {
        result.failures.push(status);
      }
      result.timeline.push({ at: Date.now(), status, startedAt, code });
      await new Promise((resolve) => setTimeout(resolve, status === 200 ? options.pauseMs : 50));
    }
  };
  const workers = Array.from({ length: options.workers }, (_, w) => worker(w));
  return {
    /** The answers so far (it grows until stop): for awaiting a condition on the load. */
    current: result,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return result;
    },
  };
}
