import { KafkaFailureKind, KafkaSendError } from '../common/errors';
import { OutgoingRecord, RecordAck } from '../kafka/record-sender';
import { RecordAccumulator } from './record-accumulator';

const record = (key: string, bytes = 10): OutgoingRecord => ({
  key,
  value: Buffer.alloc(bytes, 'x'),
  headers: {},
  timestamp: 0,
});

/** A fake broker: acks records in order, offsets counting up per call. */
function fakeSend(calls: OutgoingRecord[][]) {
  return jest.fn((topic: string, records: OutgoingRecord[]): Promise<RecordAck[]> => {
    calls.push(records);
    return Promise.resolve(records.map((r, i) => ({ topic, partition: 0, offset: String(i), timestamp: 0 })));
  });
}

describe(RecordAccumulator.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends records added within the linger window as one request, each caller getting its own ack', async () => {
    const calls: OutgoingRecord[][] = [];
    const sut = new RecordAccumulator(fakeSend(calls), {
      batchSizeBytes: 16384,
      lingerMs: 5,
      maxRequestBytes: 1 << 20,
    });

    const acks = Promise.all(['a', 'b', 'c'].map((key) => sut.add('t', record(key))));
    expect(calls).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(5);

    expect(calls).toHaveLength(1);
    expect(calls[0]?.map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect((await acks).map((a) => a.offset)).toEqual(['0', '1', '2']);
  });

  it('sends at once, without lingering, when batch.size bytes are waiting', async () => {
    const calls: OutgoingRecord[][] = [];
    const sut = new RecordAccumulator(fakeSend(calls), {
      batchSizeBytes: 200,
      lingerMs: 1000,
      maxRequestBytes: 1 << 20,
    });

    const acks = Promise.all([sut.add('t', record('a', 100)), sut.add('t', record('b', 100))]);
    await Promise.resolve();

    expect(calls).toHaveLength(1);
    await expect(acks).resolves.toHaveLength(2);
  });

  it('keeps one request in flight per topic and sends what queued meanwhile in the next one', async () => {
    const calls: OutgoingRecord[][] = [];
    let release: () => void = () => undefined;
    const send = jest.fn((topic: string, records: OutgoingRecord[]): Promise<RecordAck[]> => {
      calls.push(records);
      const acks = records.map((_, i) => ({ topic, partition: 0, offset: String(i), timestamp: 0 }));
      return calls.length === 1
        ? new Promise((resolve) => (release = () => resolve(acks)))
        : Promise.resolve(acks);
    });
    const sut = new RecordAccumulator(send, { batchSizeBytes: 16384, lingerMs: 5, maxRequestBytes: 1 << 20 });

    const first = sut.add('t', record('a'));
    await jest.advanceTimersByTimeAsync(5);
    const later = Promise.all(['b', 'c', 'd'].map((key) => sut.add('t', record(key))));
    await jest.advanceTimersByTimeAsync(50);
    expect(calls).toHaveLength(1);

    release();
    await first;
    await jest.advanceTimersByTimeAsync(0);
    await later;
    expect(calls.map((c) => c.length)).toEqual([1, 3]);
  });

  it('retries each record alone when a coalesced request fails with an error that isolating can help', async () => {
    const tooLarge = new KafkaSendError(KafkaFailureKind.RecordTooLarge, 'too large', 'MESSAGE_TOO_LARGE');
    const send = jest.fn((topic: string, records: OutgoingRecord[]): Promise<RecordAck[]> => {
      if (records.some((r) => r.key === 'big')) {
        return Promise.reject(tooLarge);
      }
      return Promise.resolve(records.map(() => ({ topic, partition: 0, offset: '7', timestamp: 0 })));
    });
    const sut = new RecordAccumulator(
      send,
      { batchSizeBytes: 16384, lingerMs: 5, maxRequestBytes: 1 << 20 },
      undefined,
      (error) => error === tooLarge,
    );

    const results = Promise.allSettled(['a', 'big', 'c'].map((key) => sut.add('t', record(key))));
    await jest.advanceTimersByTimeAsync(5);

    expect((await results).map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('drains: resolves once everything queued has been sent', async () => {
    const calls: OutgoingRecord[][] = [];
    const sut = new RecordAccumulator(fakeSend(calls), {
      batchSizeBytes: 16384,
      lingerMs: 10_000,
      maxRequestBytes: 1 << 20,
    });
    const pending = sut.add('t', record('a'));

    await sut.drain();

    expect(calls).toHaveLength(1);
    await expect(pending).resolves.toMatchObject({ offset: '0' });
  });
});
