import { Test } from '@nestjs/testing';
import { ErrorCode, KafkaFailureKind, KafkaSendError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { KafkaPublisher } from '../kafka/kafka-publisher';
import { OutgoingRecord, RecordAck, SendOutcome } from '../kafka/records';
import { Metrics } from '../observability/metrics';
import { ProducerService } from './producer.service';

const ack = (record: OutgoingRecord, offset: number): RecordAck => ({
  topic: 'demo-topic',
  partition: 1,
  offset: String(offset),
  timestamp: record.timestamp,
});
const acknowledged = (record: OutgoingRecord, offset: number): SendOutcome => ({
  status: 'acknowledged',
  ack: ack(record, offset),
});

describe(ProducerService.name, () => {
  let sut: ProducerService;
  let publisher: { send: jest.Mock; sendAtomically: jest.Mock };

  beforeEach(async () => {
    publisher = { send: jest.fn(), sendAtomically: jest.fn() };
    const config = new AppConfig(
      validateEnvironment({ KAFKA_MAX_RECORD_BYTES: '2048', SEND_TIMEOUT_MS: '5000' }),
    );
    const moduleRef = await Test.createTestingModule({
      providers: [
        ProducerService,
        Metrics,
        { provide: AppConfig, useValue: config },
        { provide: KafkaPublisher, useValue: publisher },
      ],
    }).compile();
    sut = moduleRef.get(ProducerService);
  });

  it('answers with where the broker stored the message, keyed by its id', async () => {
    publisher.send.mockImplementation((records: OutgoingRecord[]) =>
      Promise.resolve(records.map((r, i) => acknowledged(r, 40 + i))),
    );

    await expect(sut.send({ content: 'hi', id: 'm-1' }, { requestId: 'r-1' })).resolves.toMatchObject({
      messageId: 'm-1',
      topic: 'demo-topic',
      partition: 1,
      offset: 40,
    });
    const [record] = (publisher.send.mock.calls[0] as [OutgoingRecord[]])[0];
    expect(record).toMatchObject({ topic: 'demo-topic', key: 'm-1' });
    expect(record?.headers).toMatchObject({ 'x-request-id': 'r-1', 'content-type': 'application/json' });
  });

  it('answers KAFKA_UNAVAILABLE when the port says the record was not sent', async () => {
    const error = new KafkaSendError(KafkaFailureKind.Unreachable, 'down', 'KafkaUnreachable');
    publisher.send.mockResolvedValue([{ status: 'not-sent', error }]);

    await expect(sut.send({ content: 'hi' })).rejects.toMatchObject({ code: ErrorCode.KafkaUnavailable });
  });

  it("answers KAFKA_OUTCOME_UNKNOWN when the port cannot tell, and tells onSettled the broker's late word", async () => {
    let lateAck!: (ack: RecordAck | undefined) => void;
    const settled = new Promise<RecordAck | undefined>((resolve) => (lateAck = resolve));
    const error = new KafkaSendError(KafkaFailureKind.Retriable, 'no answer', 'SendTimeout');
    publisher.send.mockResolvedValue([{ status: 'unknown', error, settled }]);
    const onSettled = jest.fn();

    await expect(sut.send({ content: 'hi', id: 'm-2' }, { onSettled })).rejects.toMatchObject({
      code: ErrorCode.KafkaOutcomeUnknown,
    });
    expect(onSettled).not.toHaveBeenCalled();
    lateAck({ topic: 'demo-topic', partition: 0, offset: '9', timestamp: 0 });
    await settled;
    await Promise.resolve();
    expect(onSettled).toHaveBeenCalledWith([expect.objectContaining({ messageId: 'm-2', offset: 9 })]);
  });

  it.each([
    [KafkaFailureKind.NotAuthorized, ErrorCode.KafkaNotAuthorized],
    [KafkaFailureKind.RecordTooLarge, ErrorCode.RecordTooLarge],
    [KafkaFailureKind.UnknownTopic, ErrorCode.TopicNotFound],
    [KafkaFailureKind.AuthenticationFailed, ErrorCode.KafkaAuthenticationFailed],
    [KafkaFailureKind.Fatal, ErrorCode.KafkaRejected],
  ])('maps a record not sent for %s to %s', async (kind, code) => {
    publisher.send.mockResolvedValue([{ status: 'not-sent', error: new KafkaSendError(kind, 'no', 'X') }]);

    await expect(sut.send({ content: 'hi' })).rejects.toMatchObject({ code });
  });

  it('refuses a record over KAFKA_MAX_RECORD_BYTES before it reaches Kafka', async () => {
    await expect(sut.send({ content: 'x'.repeat(4096) })).rejects.toMatchObject({
      code: ErrorCode.PayloadTooLarge,
    });
    expect(publisher.send).not.toHaveBeenCalled();
  });

  it("gives a batch's messages one time when they have none, and each delivery its own record's time", async () => {
    const when = [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1, 0, 0, 5)];
    publisher.sendAtomically.mockImplementation((records: OutgoingRecord[]) =>
      Promise.resolve(
        records.map((record, i) => ({
          status: 'acknowledged',
          ack: { ...ack(record, i), timestamp: when[i] },
        })),
      ),
    );

    const deliveries = await sut.sendBatch([
      { content: 'a' },
      { content: 'b', timestamp: '2025-12-31T23:00:00Z' },
      { content: 'c' },
    ]);

    expect(deliveries.map((d) => d.timestamp)).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:05.000Z',
    ]);
    const [records] = publisher.sendAtomically.mock.calls[0] as [OutgoingRecord[]];
    const stamps = records.map(
      (record) => (JSON.parse(String(record.value)) as { timestamp: string }).timestamp,
    );
    expect(stamps[1]).toBe('2025-12-31T23:00:00Z');
    expect(stamps[0]).toBe(stamps[2]);
    expect(new Date(stamps[0]!).toISOString()).toBe(stamps[0]);
  });
});
