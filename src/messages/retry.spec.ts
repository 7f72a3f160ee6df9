import { retryWithBackoff } from './retry';

describe(retryWithBackoff.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const policy = { attempts: 3, initialBackoffMs: 1000, multiplier: 2 };

  it("waits 1 s, then 2 s, between three attempts (the seed's @Backoff(delay = 1000, multiplier = 2))", async () => {
    const attempts: number[] = [];
    const fn = jest.fn((attempt: number) => {
      attempts.push(Date.now());
      return attempt < 3 ? Promise.reject(new Error('retriable')) : Promise.resolve('ok');
    });

    const result = retryWithBackoff(fn, policy, () => true);
    await jest.advanceTimersByTimeAsync(3000);

    await expect(result).resolves.toBe('ok');
    expect(attempts.map((t) => t - attempts[0]!)).toEqual([0, 1000, 3000]);
  });

  it('gives up after the last attempt with the last error', async () => {
    const fn = jest.fn((attempt: number) => Promise.reject(new Error(`failure ${attempt}`)));

    const result = retryWithBackoff(fn, policy, () => true);
    const assertion = expect(result).rejects.toThrow('failure 3');
    await jest.advanceTimersByTimeAsync(3000);

    await assertion;
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('does not retry an error that retrying cannot help', async () => {
    const fn = jest.fn(() => Promise.reject(new Error('final')));

    await expect(retryWithBackoff(fn, policy, () => false)).rejects.toThrow('final');
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
