import { AppConfig } from '../config/app-config';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { FeedbackFailureKind, FeedbackRejectedError } from './feedback-errors';
import { FeedbackRecord } from './feedback-record';
import { FeedbackRecordProcessor } from './feedback-record.processor';

const record: FeedbackRecord = {
  topic: 'feedback-topic',
  partition: 1,
  offset: '41',
  key: Buffer.from('k'),
  value: Buffer.from('{"content":"hi"}'),
  headers: { traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') },
  timestamp: '1700000000000',
};

describe(FeedbackRecordProcessor.name, () => {
  let handle: jest.Mock;
  let publish: jest.Mock;
  let stillOwned: jest.Mock;
  let sut: FeedbackRecordProcessor;

  beforeEach(() => {
    jest.useFakeTimers();
    handle = jest.fn();
    publish = jest.fn().mockResolvedValue({ topic: 'feedback-topic.DLT', partition: 0, offset: '0' });
    stillOwned = jest.fn().mockResolvedValue(undefined);
    const config = { feedback: { maxAttempts: 3, retryBackoffMs: 200 } } as AppConfig;
    sut = new FeedbackRecordProcessor({ publish } as unknown as DeadLetterPublisher, config);
  });
  afterEach(() => jest.useRealTimers());

  it('hands a record to the handler once when it succeeds, and writes no dead letter', async () => {
    await expect(sut.process(record, handle, stillOwned)).resolves.toEqual({
      outcome: 'handled',
      attempts: 1,
    });
    expect(handle).toHaveBeenCalledTimes(1);
    expect(publish).not.toHaveBeenCalled();
  });

  it('dead-letters a refused record at once: retrying cannot make it JSON', async () => {
    const refusal = new FeedbackRejectedError(FeedbackFailureKind.NotJson, 'the value is not JSON');
    handle.mockImplementation(() => {
      throw refusal;
    });

    await expect(sut.process(record, handle, stillOwned)).resolves.toMatchObject({
      outcome: 'dead-lettered',
      kind: FeedbackFailureKind.NotJson,
      attempts: 1,
    });
    expect(handle).toHaveBeenCalledTimes(1);
    expect(publish).toHaveBeenCalledWith(record, FeedbackFailureKind.NotJson, refusal, 1);
  });

  it('retries a throwing handler with doubling backoff, keeping its membership alive, until it succeeds', async () => {
    handle
      .mockImplementationOnce(() => {
        throw new Error('flaky');
      })
      .mockImplementationOnce(() => {
        throw new Error('flaky');
      });

    const result = sut.process(record, handle, stillOwned);
    await jest.advanceTimersByTimeAsync(199);
    expect(handle).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(handle).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(399);
    expect(handle).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);

    await expect(result).resolves.toEqual({ outcome: 'handled', attempts: 3 });
    expect(stillOwned).toHaveBeenCalledTimes(2);
    expect(publish).not.toHaveBeenCalled();
  });

  it('dead-letters a handler that keeps throwing after FEEDBACK_MAX_ATTEMPTS attempts, with the last error', async () => {
    handle.mockImplementation(() => {
      throw new TypeError(`failure ${handle.mock.calls.length}`);
    });

    const result = sut.process(record, handle, stillOwned);
    await jest.advanceTimersByTimeAsync(600);

    await expect(result).resolves.toMatchObject({
      outcome: 'dead-lettered',
      kind: 'HandlerFailed',
      attempts: 3,
    });
    expect(handle).toHaveBeenCalledTimes(3);
    expect(publish).toHaveBeenCalledWith(
      record,
      FeedbackFailureKind.HandlerFailed,
      expect.objectContaining({ name: 'TypeError', message: 'failure 3' }),
      3,
    );
  });

  it('rejects when the dead letter cannot be written, so the consumer does not commit the record', async () => {
    handle.mockImplementation(() => {
      throw new FeedbackRejectedError(FeedbackFailureKind.InvalidMessage, 'not a Message');
    });
    publish.mockRejectedValue(new Error('the broker is down'));

    await expect(sut.process(record, handle, stillOwned)).rejects.toThrow('the broker is down');
  });
});
