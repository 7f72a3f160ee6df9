import type { Admin } from 'kafkajs';
import type { SendResultDto } from '../src/messages/dto/send-result.dto';
import { RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { post } from './support/http';
import { kcatReadAll } from './support/kcat';

/**
 * A topic the service has written to is deleted and created again while requests wait for it, as in a
 * topic being recreated or a broker answering "unknown topic" for a moment after a restart. The brokers
 * answer UNKNOWN_TOPIC_OR_PARTITION meanwhile; the service takes that as a moment's, not as "no such
 * topic" (send-policy.ts), and its records wait, as for a leader, until the send deadline.
 */
describe('a topic deleted and created again while requests wait for it', () => {
  const topic = uniqueTopic('recreated');
  let running: RunningApp;
  let admin: Admin;

  beforeAll(async () => {
    admin = await testAdmin();
    running = await startApp({ KAFKA_TOPIC: topic, SEND_TIMEOUT_MS: '20000' });
  }, 60_000);
  afterAll(async () => {
    await running?.close();
    await admin?.disconnect();
  });

  it('the requests sent while it was gone are answered 200 once it is back, and are on the new topic once, byte for byte', async () => {
    const url = `${running.url}/api/messages`;
    expect((await post<SendResultDto>(url, { content: 'before', source: 'recreate' })).status).toBe(200);

    await admin.deleteTopics({ topics: [topic] });
    await eventually(async () => expect(await admin.listTopics()).not.toContain(topic), 30_000, 200);
    const contents = Array.from({ length: 6 }, (_, i) => `while gone ${i}: é ✓ 😀 "q" \\`);
    const began = Date.now();
    const waiting = contents.map((content) =>
      post<SendResultDto & { code?: string }>(url, { content, source: 'recreate' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const answers = await Promise.all(waiting);

    expect(answers.map((a) => `${a.status} ${String(a.body.code ?? '')}`)).toEqual(
      contents.map(() => '200 '),
    );
    // They waited for the topic: none was answered before it was created again.
    expect(Date.now() - began).toBeGreaterThanOrEqual(2000);
    const records = kcatReadAll(topic);
    for (const [i, { body }] of answers.entries()) {
      const copies = records.filter((r) => r.key === body.messageId);
      expect(copies).toHaveLength(1);
      expect(copies[0]).toMatchObject({ partition: body.partition, offset: body.offset });
      expect(JSON.parse(copies[0]!.payload!)).toMatchObject({ id: body.messageId, content: contents[i] });
    }
    // The new topic holds only them: the record from before went with the old one.
    expect(records).toHaveLength(contents.length);
  }, 90_000);
});
