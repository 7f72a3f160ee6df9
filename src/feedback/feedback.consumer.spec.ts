import { INestMicroservice, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { useContainer } from 'class-validator';
import { AppConfig, FEEDBACK } from '../config/app-config';
import {
  ConsumedRecord,
  ConsumerRunner,
  ConsumerRunnerFactory,
  ConsumerRunnerOptions,
} from '../kafka/consumer-runner';
import { KafkaRecordContext } from '../kafka/kafka-record.context';
import { KafkaTransport } from '../kafka/kafka-transport';
import { MessageDto } from '../messages/dto/message.dto';
import { MESSAGE_RULES } from '../messages/message-rules';
import { METRIC_PROVIDERS } from '../observability/metric-definitions';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { FeedbackFailureKind, FeedbackRejectedError } from './feedback-errors';
import { FeedbackRecordProcessor } from './feedback-record.processor';
import { FeedbackConsumer } from './feedback.consumer';
import { FeedbackHandler } from './feedback.handler';

const feedback = {
  enabled: true,
  topic: 'feedback-topic',
  groupId: 'kafka-producer-service-consumer-group',
  deadLetterTopic: { name: 'feedback-topic.DLT', partitions: 3, replicationFactor: 1, configs: {} },
  maxAttempts: 3,
  retryBackoffMs: 1,
};
const config = {
  feedback,
  consumers: { [FEEDBACK]: { topic: feedback.topic, groupId: feedback.groupId } },
  message: {
    types: ['INFO', 'ERROR'],
    maxContentLength: 100,
    maxMetadataEntries: 4,
    maxMetadataValueLength: 50,
  },
} as unknown as AppConfig;

function record(value: string | null, offset = '7'): ConsumedRecord {
  return {
    topic: feedback.topic,
    partition: 1,
    offset,
    key: Buffer.from([0x00, 0xff]),
    value: value === null ? null : Buffer.from(value),
    headers: { repeated: [Buffer.from('a'), Buffer.from('b')] },
    timestamp: '1700000000000',
  };
}

/**
 * FeedbackConsumer as Nest runs it: a microservice on the KafkaTransport whose ConsumerRunner is replaced, so
 * the test hands records to `handle` as kafkajs would, and sees what the runner would commit (handle resolved)
 * or leave uncommitted (handle rejected).
 */
describe(FeedbackConsumer.name, () => {
  let app: INestMicroservice;
  let options: ConsumerRunnerOptions;
  let handled: { message: MessageDto; context: KafkaRecordContext }[];
  let handle: jest.SpyInstance;
  let publish: jest.Mock;
  const heartbeat = jest.fn(() => Promise.resolve());

  beforeAll(() => {
    Logger.overrideLogger(false);
    // The Message rules read AppConfig through Nest's container, as configureApp arranges it.
    const rules = new Map<unknown, unknown>(MESSAGE_RULES.map((rule) => [rule, new rule(config)]));
    useContainer({ get: (someClass: unknown) => rules.get(someClass) }, { fallback: true });
  });

  beforeEach(async () => {
    handled = [];
    publish = jest.fn().mockResolvedValue({ topic: 'feedback-topic.DLT', partition: 1, offset: '0' });
    const moduleRef = await Test.createTestingModule({
      controllers: [FeedbackConsumer],
      providers: [
        FeedbackHandler,
        FeedbackRecordProcessor,
        ...METRIC_PROVIDERS,
        { provide: AppConfig, useValue: config },
        { provide: DeadLetterPublisher, useValue: { publish } },
        {
          provide: ConsumerRunnerFactory,
          useValue: {
            create: (given: ConsumerRunnerOptions) => {
              options = given;
              return {
                start: jest.fn(),
                stop: jest.fn().mockResolvedValue(undefined),
              } as unknown as ConsumerRunner;
            },
          },
        },
        {
          provide: KafkaTransport,
          inject: [ConsumerRunnerFactory],
          useFactory: (runners: ConsumerRunnerFactory) =>
            new KafkaTransport(runners, { consumers: config.consumers }),
        },
      ],
    }).compile();
    const handler = moduleRef.get(FeedbackHandler);
    handle = jest.spyOn(handler, 'handle').mockImplementation((message, context) => {
      handled.push({ message, context: context as KafkaRecordContext });
    });
    app = moduleRef.createNestMicroservice({ strategy: moduleRef.get(KafkaTransport) });
    await app.listen();
  });
  afterEach(() => app.close());

  it('listens on the configured feedback topic in the configured group', () => {
    expect(options).toMatchObject({ topic: 'feedback-topic', groupId: feedback.groupId });
  });

  it('hands the handler the validated Message as a MessageDto and the byte-exact record as its context', async () => {
    await options.handle(record('{"id":"m-1","content":"thanks","type":"INFO"}'), heartbeat);

    expect(handled).toHaveLength(1);
    const [{ message, context }] = handled as [(typeof handled)[number]];
    expect(message).toBeInstanceOf(MessageDto);
    expect(message).toEqual({ id: 'm-1', content: 'thanks', type: 'INFO' });
    expect(context).toBeInstanceOf(KafkaRecordContext);
    expect({
      topic: context.topic,
      partition: context.partition,
      offset: context.offset,
      key: context.key,
      headers: context.headers,
      timestamp: context.timestamp,
    }).toEqual({
      topic: 'feedback-topic',
      partition: 1,
      offset: '7',
      key: Buffer.from([0x00, 0xff]),
      headers: { repeated: [Buffer.from('a'), Buffer.from('b')] },
      timestamp: '1700000000000',
    });
    expect(publish).not.toHaveBeenCalled();
  });

  it('dead-letters a record without a value as NotJson at once, without calling the handler', async () => {
    const empty = record(null);
    await options.handle(empty, heartbeat);

    expect(handle).not.toHaveBeenCalled();
    expect(publish).toHaveBeenCalledWith(
      empty,
      FeedbackFailureKind.NotJson,
      expect.objectContaining({ message: 'the record has no value' }),
      1,
    );
  });

  it('dead-letters a value that is not JSON as NotJson at once', async () => {
    await options.handle(record('not JSON {'), heartbeat);

    expect(handle).not.toHaveBeenCalled();
    const [, kind, error, attempts] = publish.mock.calls[0] as [unknown, string, Error, number];
    expect([kind, attempts]).toEqual([FeedbackFailureKind.NotJson, 1]);
    expect(error.message).toMatch(/^the value is not JSON: /);
  });

  it('dead-letters JSON that is not a valid Message as InvalidMessage, naming each field as the API does', async () => {
    await options.handle(record('{"type":"NOPE","extra":1}'), heartbeat);

    expect(handle).not.toHaveBeenCalled();
    const [, kind, error] = publish.mock.calls[0] as [unknown, string, FeedbackRejectedError];
    expect(kind).toBe(FeedbackFailureKind.InvalidMessage);
    expect(error.details.map((d) => d.field).sort()).toEqual(['content', 'extra', 'type']);
    expect(error.message).toMatch(/^the value is not a valid Message: /);
    expect(error.message).toContain('type: type must be one of: INFO, ERROR');
  });

  it('dead-letters a bare JSON string as InvalidMessage: it must be a JSON object', async () => {
    await options.handle(record('"just a string"'), heartbeat);

    const [, kind, error] = publish.mock.calls[0] as [unknown, string, Error];
    expect(kind).toBe(FeedbackFailureKind.InvalidMessage);
    expect(error.message).toBe('the value is not a valid Message: body: must be a JSON object (a Message)');
  });

  it('retries a throwing handler FEEDBACK_MAX_ATTEMPTS times, then dead-letters the record as HandlerFailed', async () => {
    handle.mockImplementation(() => {
      throw new Error('the downstream system is unavailable');
    });

    await options.handle(record('{"content":"x"}'), heartbeat);

    expect(handle).toHaveBeenCalledTimes(3);
    expect(heartbeat).toHaveBeenCalled();
    expect(publish).toHaveBeenCalledWith(
      expect.objectContaining({ offset: '7' }),
      FeedbackFailureKind.HandlerFailed,
      expect.objectContaining({ message: 'the downstream system is unavailable' }),
      3,
    );
  });

  it('fails the record with the real cause when the dead letter cannot be written, so it is not committed', async () => {
    publish.mockRejectedValue(new Error('the broker is down'));

    await expect(options.handle(record('not JSON'), heartbeat)).rejects.toThrow('the broker is down');
  });
});
