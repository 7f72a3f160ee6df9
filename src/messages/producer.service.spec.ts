import { Test } from '@nestjs/testing';
import { ErrorCode, KafkaFailureKind, KafkaSendError, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { OutgoingRecord, RecordAck, RecordSender } from '../kafka/record-sender';
import { Metrics } from '../observability/metrics';
import { ProducerService } from './producer.service';

const ack = (record: OutgoingRecord, offset: number): RecordAck => ({
  topic: 'demo-topic',
  partition: 1,
  offset: String(offset),
  timestamp: record.timestamp,
});

describe(ProducerService.name, () => {
  let sut: ProducerService;
  let sender: { sendEach: jest.Mock; sendAtomically: jest.Mock };

  /** A ProducerService over the fake sender, configured by these variables. */
  async function producerWith(env: Record<string, string>): Promise<ProducerService> {
    const config = new AppConfig(validateEnvironment({ KAFKA_PRODUCER_LINGER_MS: '0', ...env }));
    const moduleRef = await Test.createTestingModule({
      providers: [
        ProducerService,
        Metrics,
        { provide: AppConfig, useValue: config },
        { provide: RecordSender, useValue: sender },
      ],
    }).compile();
    return moduleRef.get(ProducerService);
  }

  beforeEach(async () => {
    sender = { sendEach: jest.fn(), sendAtomically: jest.fn() };
    sut = await producerWith({ KAFKA_MAX_RECORD_BYTES: '2048', SEND_TIMEOUT_MS: '5000' });
    jest.useFakeTimers();
  });
  afterEach(() => jest.useRealTimers());

  it('answers with where the broker stored the message, keyed by its id', async () => {
    sender.sendEach.mockImplementation((_topic: string, records: OutgoingRecord[]) =>
      Promise.resolve(records.map((r, i) => ack(r, 40 + i))),
    );

    const result = sut.send({ content: 'hi', id: 'm-1' }, { requestId: 'r-1' });
    await jest.advanceTimersByTimeAsync(1);

    await expect(result).resolves.toMatchObject({
      messageId: 'm-1',
      topic: 'demo-topic',
      partition: 1,
      offset: 40,
    });
    const [record] = (sender.sendEach.mock.calls[0] as [string, OutgoingRecord[]])[1];
    expect(record?.key).toBe('m-1');
    expect(record?.headers).toMatchObject({ 'x-request-id': 'r-1', 'content-type': 'application/json' });
  });

  it('retries a retriable failure three times with 1 s and 2 s backoff, then answers KAFKA_UNAVAILABLE', async () => {
    sender.sendEach.mockRejectedValue(
      new KafkaSendError(KafkaFailureKind.Retriable, 'down', 'KafkaJSConnectionError'),
    );

    const result = sut.send({ content: 'hi' });
    const assertion = expect(result).rejects.toMatchObject({ code: ErrorCode.KafkaUnavailable });
    await jest.advanceTimersByTimeAsync(3100);

    await assertion;
    expect(sender.sendEach).toHaveBeenCalledTimes(3);
  });

  it('fails at once, without retrying, when the broker says the service may not write', async () => {
    sender.sendEach.mockRejectedValue(
      new KafkaSendError(KafkaFailureKind.NotAuthorized, 'denied', 'TOPIC_AUTHORIZATION_FAILED'),
    );

    const result = sut.send({ content: 'hi' });
    const assertion = expect(result).rejects.toMatchObject({ code: ErrorCode.KafkaNotAuthorized });
    await jest.advanceTimersByTimeAsync(1);

    await assertion;
    expect(sender.sendEach).toHaveBeenCalledTimes(1);
  });

  it('refuses a record over KAFKA_MAX_RECORD_BYTES before it reaches Kafka', async () => {
    await expect(sut.send({ content: 'x'.repeat(3000) })).rejects.toBeInstanceOf(ServiceError);
    expect(sender.sendEach).not.toHaveBeenCalled();
  });

  it('answers KAFKA_UNAVAILABLE at SEND_TIMEOUT_MS when the record never left (no producer yet), and never sends it later', async () => {
    let release: () => void = () => undefined;
    const sent: OutgoingRecord[] = [];
    // Stands for RecordSender waiting on a producer that cannot connect, then handing over what is still wanted.
    sender.sendEach.mockImplementation(async (_topic: string, records: OutgoingRecord[]) => {
      await new Promise<void>((resolve) => (release = resolve));
      const live = records.filter((r) => !r.ticket?.cancelled);
      sent.push(...live);
      return records.map((r, i) => (r.ticket?.cancelled ? undefined : ack(r, i)));
    });

    const result = sut.send({ content: 'hi' });
    const assertion = expect(result).rejects.toMatchObject({
      code: ErrorCode.KafkaUnavailable,
      options: { retryAfterSeconds: 5 },
    });
    await jest.advanceTimersByTimeAsync(5001);
    await assertion;

    release();
    await jest.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([]);
  });

  it('answers KAFKA_OUTCOME_UNKNOWN at SEND_TIMEOUT_MS when a produce request carrying the record got no answer', async () => {
    sender.sendEach.mockImplementation((_topic: string, records: OutgoingRecord[]) => {
      records.forEach((r) => r.ticket && (r.ticket.handedOver = true));
      return new Promise(() => undefined);
    });

    const result = sut.send({ content: 'hi' });
    const assertion = expect(result).rejects.toMatchObject({ code: ErrorCode.KafkaOutcomeUnknown });
    await jest.advanceTimersByTimeAsync(5001);
    await assertion;
  });

  it('a record whose request was lost in flight is never sent again, and is KAFKA_OUTCOME_UNKNOWN', async () => {
    sender.sendEach.mockImplementation((_topic: string, records: OutgoingRecord[]) => {
      // As RecordSender does: the records went into a produce request, which was lost.
      records.forEach((r) => r.ticket && Object.assign(r.ticket, { handedOver: true, attempts: 1 }));
      return Promise.reject(
        new KafkaSendError(KafkaFailureKind.Retriable, 'timed out', 'KafkaJSRequestTimeoutError'),
      );
    });

    const result = sut.send({ content: 'hi' });
    const assertion = expect(result).rejects.toMatchObject({ code: ErrorCode.KafkaOutcomeUnknown });
    await jest.advanceTimersByTimeAsync(3100);
    await assertion;
    // A new request would write a second copy if the broker appended the first one.
    expect(sender.sendEach).toHaveBeenCalledTimes(1);
  });

  it('sends a coalesced batch the broker refused as a whole again one record at a time, but never one that may have been appended', async () => {
    const refusedWhole = (brokerAnswered: boolean) => (_topic: string, records: OutgoingRecord[]) => {
      if (records.length > 1) {
        records.forEach((r) => r.ticket && Object.assign(r.ticket, { handedOver: true, attempts: 1 }));
        const failure = new KafkaSendError(
          KafkaFailureKind.Fatal,
          'rejected',
          'OUT_OF_ORDER_SEQUENCE_NUMBER',
          undefined,
          true,
          brokerAnswered,
        );
        return Promise.resolve(records.map(() => failure));
      }
      return Promise.resolve(records.map((r) => ack(r, 7)));
    };
    // The first goes out alone at once; the two after it wait for it and go out together.
    const three = async (): Promise<string[]> => {
      const sent = Promise.allSettled(['first', 'a', 'b'].map((content) => sut.send({ content })));
      await jest.advanceTimersByTimeAsync(10);
      return (await sent).map((r) => r.status);
    };

    sender.sendEach.mockImplementation(refusedWhole(true));
    expect(await three()).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(sender.sendEach.mock.calls.map(([, records]) => (records as unknown[]).length)).toEqual([
      1, 2, 1, 1,
    ]);

    sender.sendEach.mockReset().mockImplementation(refusedWhole(false));
    expect(await three()).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(sender.sendEach.mock.calls.map(([, records]) => (records as unknown[]).length)).toEqual([1, 2]);
  });

  it("gives a batch's messages one time when they have none, and each delivery its own record's time", async () => {
    const when = [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1, 0, 0, 5)];
    sender.sendAtomically.mockImplementation((records: { record: OutgoingRecord }[]) =>
      Promise.resolve(records.map(({ record }, i) => ({ ...ack(record, i), timestamp: when[i] }))),
    );

    const result = sut.sendBatch([
      { content: 'a' },
      { content: 'b', timestamp: '2025-12-31T23:00:00Z' },
      { content: 'c' },
    ]);
    await jest.advanceTimersByTimeAsync(1);

    expect((await result).map((d) => d.timestamp)).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:05.000Z',
    ]);
    const [records] = sender.sendAtomically.mock.calls[0] as [{ record: OutgoingRecord }[]];
    const stamps = records.map(
      ({ record }) => (JSON.parse(String(record.value)) as { timestamp: string }).timestamp,
    );
    expect(stamps[1]).toBe('2025-12-31T23:00:00Z');
    expect(stamps[0]).toBe(stamps[2]);
    expect(new Date(stamps[0]!).toISOString()).toBe(stamps[0]);
  });

  it('starts no retry past the deadline', async () => {
    sender.sendEach.mockRejectedValue(
      new KafkaSendError(KafkaFailureKind.Retriable, 'down', 'KafkaJSConnectionError'),
    );
    const short = await producerWith({ SEND_TIMEOUT_MS: '1500' });

    const result = short.send({ content: 'hi' });
    const assertion = expect(result).rejects.toMatchObject({ code: ErrorCode.KafkaUnavailable });
    await jest.advanceTimersByTimeAsync(5000);
    await assertion;
    // 1 s backoff fits in 1.5 s; the 2 s one would not.
    expect(sender.sendEach).toHaveBeenCalledTimes(2);
  });
});
