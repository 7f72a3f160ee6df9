import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { FeedbackConsumerHealth } from '../src/feedback/feedback-consumer.health';
import { FeedbackRecord } from '../src/feedback/feedback-record';
import { FeedbackHandler } from '../src/feedback/feedback.handler';
import { KafkaRecordContext } from '../src/kafka/kafka-record.context';
import { MessageDto } from '../src/messages/dto/message.dto';
import { Metrics } from '../src/observability/metrics';
import { RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { get } from './support/http';
import { KcatRecord, kcatProduce, kcatReadAll } from './support/kcat';

/**
 * The real FeedbackHandler, observed: it records the ids it handled (and the record each came in), and fails
 * every time on content "always-fails" (a handler that keeps throwing, e.g. a downstream that is down).
 */
@Injectable()
class ObservedFeedbackHandler extends FeedbackHandler {
  readonly handled: string[] = [];
  readonly records = new Map<string, FeedbackRecord>();
  readonly failedAttempts = new Map<string, number>();

  override handle(message: MessageDto, record: KafkaRecordContext): void {
    if (message.content === 'always-fails') {
      this.failedAttempts.set(record.offset, (this.failedAttempts.get(record.offset) ?? 0) + 1);
      throw new Error('the downstream system is unavailable');
    }
    super.handle(message, record);
    this.handled.push(message.id ?? '');
    this.records.set(message.id ?? '', record.record);
  }
}

const appName = `feedback-e2e-${randomUUID().slice(0, 8)}`;
const groupId = `${appName}-consumer-group`;
const topic = uniqueTopic('feedback');
const deadLetterTopic = `${topic}.DLT`;
const env = {
  APP_NAME: appName,
  KAFKA_FEEDBACK_TOPIC: topic,
  FEEDBACK_CONSUMER_ENABLED: 'true',
  FEEDBACK_MAX_ATTEMPTS: '3',
  FEEDBACK_RETRY_BACKOFF_MS: '50',
  // The health details this file reads (no API keys here, so when-authorized would show none).
  HEALTH_SHOW_DETAILS: 'always',
};

function feedback(id: string, type = 'INFO', content = `feedback ${id}`): string {
  return JSON.stringify({ id, content, type, source: 'kcat' });
}

async function startFeedbackApp(): Promise<{ running: RunningApp; handler: ObservedFeedbackHandler }> {
  const running = await startApp(env, (builder) =>
    builder.overrideProvider(FeedbackHandler).useClass(ObservedFeedbackHandler),
  );
  return { running, handler: running.app.get(FeedbackHandler) };
}

/** Where kcat wrote each record of the feedback topic, found by its value. */
function positionOf(value: string): KcatRecord {
  const record = kcatReadAll(topic).find((r) => r.payload === value);
  if (!record) {
    throw new Error(`no record ${value} on ${topic}`);
  }
  return record;
}

describe('FeedbackConsumer (real broker, records written with kcat)', () => {
  let admin: Admin;
  let running: RunningApp;
  let handler: ObservedFeedbackHandler;

  /** The group's committed offset per partition (-1: none), read with the admin client. */
  async function committed(): Promise<Map<number, string>> {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
  }

  /** Every partition's high watermark: the offset after its last record. */
  async function ends(): Promise<Map<number, string>> {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
  }

  /** Every partition that holds records has its committed offset at its end: all of them finished. */
  async function expectCommittedToTheEnd(): Promise<void> {
    await eventually(async () => {
      const done = await committed();
      const filled = [...(await ends())].filter(([, end]) => end !== '0');
      expect(filled.map(([partition]) => [partition, done.get(partition)])).toEqual(filled);
    });
  }

  function deadLetterOf(position: KcatRecord): KcatRecord {
    const letter = kcatReadAll(deadLetterTopic).find(
      (r) =>
        r.headers['kafka_dlt-original-partition'] === String(position.partition) &&
        r.headers['kafka_dlt-original-offset'] === String(position.offset),
    );
    if (!letter) {
      throw new Error(`no dead letter for ${topic}-${position.partition}@${position.offset}`);
    }
    return letter;
  }

  beforeAll(async () => {
    admin = await testAdmin();
    // The topic and records exist before the group does: "earliest" must bring them in.
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    kcatProduce(topic, [
      { key: 'early-1', value: feedback('early-1', 'INFO') },
      { key: 'early-2', value: feedback('early-2', 'WARNING') },
      { key: 'early-3', value: feedback('early-3', 'INFO') },
    ]);
    ({ running, handler } = await startFeedbackApp());
  });
  afterAll(async () => {
    await running?.close();
    await admin?.disconnect();
  });

  it('handles records written before its group existed (earliest) and commits exactly past them', async () => {
    await eventually(() =>
      expect(handler.handled).toEqual(expect.arrayContaining(['early-1', 'early-2', 'early-3'])),
    );

    await expectCommittedToTheEnd();
    const received = await running.app.get(Metrics).messagesReceived.get();
    const count = (type: string): number | undefined =>
      received.values.find((v) => v.labels.topic === topic && v.labels.type === type)?.value;
    expect({ INFO: count('INFO'), WARNING: count('WARNING') }).toEqual({ INFO: 2, WARNING: 1 });
  });

  it('joins the group named exactly <APP_NAME>-consumer-group (no -server suffix), shown in health', async () => {
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(appName));
    expect(ours).toEqual([groupId]);
    const { groups: described } = await admin.describeGroups([groupId]);
    expect(described[0]).toMatchObject({ state: 'Stable', members: [expect.anything()] });

    const health = await get(`${running.url}/actuator/health/feedbackConsumer`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'UP',
      details: { state: 'RUNNING', group: groupId, topic, deadLetterTopic, assignedPartitions: [0, 1, 2] },
    });
  });

  it('gives the handler the record byte-exact: binary key, binary and repeated header values in order', async () => {
    const producer = new Kafka({
      clientId: 'e2e-feedback-writer',
      brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    const key = Buffer.from([0x00, 0xff, 0x80, 0x0a]);
    await producer.send({
      topic,
      messages: [
        {
          key,
          value: feedback('byte-exact'),
          headers: { repeated: ['first', 'second', 'third'], binary: Buffer.from([0xc3, 0x28, 0x00]) },
        },
      ],
    });
    await producer.disconnect();

    const received = await eventually(() => {
      const record = handler.records.get('byte-exact');
      expect(record).toBeDefined();
      return record!;
    });
    expect(received.key).toEqual(key);
    expect(received.headers).toEqual({
      repeated: [Buffer.from('first'), Buffer.from('second'), Buffer.from('third')],
      binary: Buffer.from([0xc3, 0x28, 0x00]),
    });
    expect(received.value?.toString('utf8')).toBe(feedback('byte-exact'));
    expect(received.timestamp).toMatch(/^\d{13}$/);
    await expectCommittedToTheEnd();
  });

  it('dead-letters a non-JSON record between two good ones with its key, value, headers and the error', async () => {
    const poison = 'this is not JSON {';
    kcatProduce(topic, [
      { key: 'same-key', value: feedback('before-poison') },
      { key: 'same-key', value: poison, headers: { 'x-trace': 'trace-7' } },
      { key: 'same-key', value: feedback('after-poison') },
    ]);

    await eventually(() =>
      expect(handler.handled).toEqual(expect.arrayContaining(['before-poison', 'after-poison'])),
    );
    expect(handler.handled.indexOf('before-poison')).toBeLessThan(handler.handled.indexOf('after-poison'));
    const position = positionOf(poison);
    const letter = await eventually(() => deadLetterOf(position));
    expect(letter).toMatchObject({ key: 'same-key', payload: poison });
    expect(letter.headers).toMatchObject({
      'x-trace': 'trace-7',
      'kafka_dlt-original-topic': topic,
      'kafka_dlt-original-consumer-group': groupId,
      'kafka_dlt-error-kind': 'NotJson',
      'kafka_dlt-exception-fqcn': 'FeedbackRejectedError',
      'kafka_dlt-attempts': '1',
    });
    expect(letter.headers['kafka_dlt-exception-message']).toMatch(/^the value is not JSON/);
    // The committed offset is the next one to read: one past the good record after the poison.
    await eventually(async () =>
      expect((await committed()).get(position.partition)).toBe(String(position.offset + 2)),
    );
    await expectCommittedToTheEnd();
  });

  it('dead-letters JSON that is not a valid Message (a bare JSON string included) without retrying', async () => {
    const invalid = JSON.stringify({ type: 'NOT-A-TYPE', source: 'kcat' });
    const bareString = JSON.stringify('just a string');
    kcatProduce(topic, [
      { key: 'invalid', value: invalid },
      { key: 'bare', value: bareString },
      { key: 'invalid', value: feedback('after-invalid') },
    ]);

    const invalidLetter = await eventually(() => deadLetterOf(positionOf(invalid)));
    expect(invalidLetter.headers).toMatchObject({
      'kafka_dlt-error-kind': 'InvalidMessage',
      'kafka_dlt-attempts': '1',
    });
    expect(invalidLetter.headers['kafka_dlt-exception-message']).toMatch(/content: content is required/);
    const bareLetter = await eventually(() => deadLetterOf(positionOf(bareString)));
    expect(bareLetter.headers['kafka_dlt-exception-message']).toMatch(/must be a JSON object/);
    await eventually(() => expect(handler.handled).toContain('after-invalid'));
    await expectCommittedToTheEnd();
  });

  it('retries a handler that keeps throwing FEEDBACK_MAX_ATTEMPTS times, dead-letters the record, and goes on', async () => {
    const failing = feedback('fails', 'ERROR', 'always-fails');
    kcatProduce(topic, [
      { key: 'flaky', value: failing },
      { key: 'flaky', value: feedback('after-failing') },
    ]);

    await eventually(() => expect(handler.handled).toContain('after-failing'));
    const position = positionOf(failing);
    expect(handler.failedAttempts.get(String(position.offset))).toBe(3);
    const letter = deadLetterOf(position);
    expect(letter).toMatchObject({ key: 'flaky', payload: failing });
    expect(letter.headers).toMatchObject({
      'kafka_dlt-error-kind': 'HandlerFailed',
      'kafka_dlt-exception-fqcn': 'Error',
      'kafka_dlt-exception-message': 'the downstream system is unavailable',
      'kafka_dlt-attempts': '3',
    });
    const deadLettered = await running.app.get(Metrics).messagesDeadLettered.get();
    const count = (error: string): number | undefined =>
      deadLettered.values.find((v) => v.labels.topic === topic && v.labels.error === error)?.value;
    expect({
      NotJson: count('NotJson'),
      InvalidMessage: count('InvalidMessage'),
      HandlerFailed: count('HandlerFailed'),
    }).toEqual({
      NotJson: 1,
      InvalidMessage: 2,
      HandlerFailed: 1,
    });
    await expectCommittedToTheEnd();
  });

  it('after a restart handles only the records written while it was down, each once', async () => {
    await expectCommittedToTheEnd();
    await running.close();
    // A clean shutdown leaves the group at once (no wait for the session timeout).
    const { groups } = await admin.describeGroups([groupId]);
    expect(groups[0]).toMatchObject({ state: 'Empty', members: [] });

    kcatProduce(topic, [
      { key: 'down-1', value: feedback('while-down-1') },
      { key: 'down-2', value: feedback('while-down-2') },
    ]);
    ({ running, handler } = await startFeedbackApp());

    await eventually(() => expect(handler.handled).toHaveLength(2));
    await expectCommittedToTheEnd();
    // Everything is committed, so anything re-read would have been handled before this point.
    expect([...handler.handled].sort()).toEqual(['while-down-1', 'while-down-2']);
    expect(running.app.get(FeedbackConsumerHealth).currentState).toBe('RUNNING');
  });
});
