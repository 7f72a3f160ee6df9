import { Admin } from 'kafkajs';
import { createSmallBatchTopic, RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { expectErrorShape, get, post } from './support/http';
import { eventually } from './support/eventually';
import { kcatReadAll } from './support/kcat';
import type { BatchResultDto } from '../src/messages/dto/send-result.dto';

describe('POST /api/messages/batch: all messages in one Kafka transaction', () => {
  const topic = uniqueTopic('batch');
  let admin: Admin;
  let running: RunningApp;

  beforeAll(async () => {
    admin = await testAdmin();
    await createSmallBatchTopic(admin, topic);
    running = await startApp({
      KAFKA_TOPIC: topic,
      MESSAGE_MAX_CONTENT_LENGTH: '100000',
      KAFKA_PRODUCER_COMPRESSION: 'none',
    });
  });
  afterAll(async () => {
    await running.close();
    await admin.disconnect();
  });

  it('connects one transactional producer at start and more when batches overlap, each committing', async () => {
    const connected = async (): Promise<string[]> => {
      const { body } = await get<string>(`${running.url}/actuator/prometheus`);
      return [...body.matchAll(/^kafka_producer_connected\{producer="(transactional-\d+)"\} 1$/gm)].map(
        (match) => match[1]!,
      );
    };
    await eventually(async () => expect(await connected()).toEqual(['transactional-0']));

    const batches = Array.from({ length: 4 }, (_, b) =>
      Array.from({ length: 2 }, (_, i) => ({ content: `overlap-${b}-${i}`, id: `o-${topic}-${b}-${i}` })),
    );
    const answers = await Promise.all(
      batches.map((messages) => post<BatchResultDto>(`${running.url}/api/messages/batch`, messages)),
    );

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect((await connected()).length).toBeGreaterThan(1);
    await eventually(() => {
      const read = kcatReadAll(topic, 'read_committed').filter((r) => r.key?.startsWith(`o-${topic}`));
      expect(read.map((r) => r.key).sort()).toEqual(
        batches
          .flat()
          .map((m) => m.id)
          .sort(),
      );
    });
  });

  it('looks the transaction coordinator up once per producer, not before every AddPartitionsToTxn and EndTxn', async () => {
    // Kafka requests the transactional producers sent, by API, from the service's own metrics.
    const sent = async (api: string): Promise<number> => {
      const { body } = await get<string>(`${running.url}/actuator/prometheus`);
      const pattern = new RegExp(
        `^kafka_producer_requests_total\\{producer="transactional-\\d+",api="${api}"\\} (\\d+)$`,
        'gm',
      );
      return [...body.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
    };
    const batch = async (b: number): Promise<number> =>
      (
        await post<BatchResultDto>(`${running.url}/api/messages/batch`, [
          { content: `kept-${b}`, id: `kc-${topic}-${b}` },
        ])
      ).status;
    // One batch first: a producer still connecting looks its coordinator up (again if it was loading).
    expect(await batch(0)).toBe(200);
    const lookups = await sent('GroupCoordinator');
    const commits = await sent('EndTxn');

    for (let b = 1; b <= 5; b++) {
      expect(await batch(b)).toBe(200);
    }

    expect((await sent('EndTxn')) - commits).toBe(5);
    expect((await sent('GroupCoordinator')) - lookups).toBe(0);
  });

  it('commits a batch: a read_committed consumer sees every message at the offsets returned', async () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({ content: `batch-${i}`, id: `b-${topic}-${i}` }));
    const { status, body } = await post<BatchResultDto>(`${running.url}/api/messages/batch`, messages);

    expect(status).toBe(200);
    expect(body.count).toBe(10);
    // The commit markers may land just after the 200: wait (bounded) until the whole batch is readable.
    const committed = await eventually(() => {
      const found = kcatReadAll(topic, 'read_committed').filter((r) => r.key?.startsWith(`b-${topic}`));
      expect(found).toHaveLength(10);
      return found;
    });
    for (const result of body.results) {
      const record = committed.find((r) => r.partition === result.partition && r.offset === result.offset);
      expect(record?.key).toBe(result.messageId);
    }
  });

  it('leaves nothing visible when the batch fails part way, and says why', async () => {
    const marker = `fail-${Date.now()}`;
    const messages = [
      { content: 'first', source: marker },
      { content: 'y'.repeat(40000), source: marker },
      { content: 'third', source: marker },
    ];
    const { status, body } = await post(`${running.url}/api/messages/batch`, messages);

    expect(status).toBe(413);
    expectErrorShape(body, 413);
    expect(body.message).toMatch(/too large/);
    const visible = kcatReadAll(topic, 'read_committed').filter((r) => r.payload?.includes(marker));
    expect(visible).toHaveLength(0);
  });

  it('still commits batches after an aborted one', async () => {
    const { status, body } = await post<BatchResultDto>(`${running.url}/api/messages/batch`, [
      { content: 'after' },
      { content: 'abort' },
    ]);
    expect(status).toBe(200);
    expect(body.count).toBe(2);
  });
});
