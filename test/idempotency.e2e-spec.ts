import { RunningApp, startApp, uniqueTopic } from './support/app';
import { expectErrorShape, post } from './support/http';
import { kcatReadAll } from './support/kcat';

const keyed = (key: string): Record<string, string> => ({ 'Idempotency-Key': `"${key}"` });

describe('Idempotency-Key on the produce endpoints (real broker, read back with kcat)', () => {
  let running: RunningApp;
  const topic = uniqueTopic('idempotency');

  beforeAll(async () => {
    // A 50 ms linger keeps the first request in flight while its repeats arrive.
    running = await startApp({ KAFKA_TOPIC: topic, KAFKA_PRODUCER_LINGER_MS: '50' });
  });
  afterAll(async () => {
    await running?.close();
  });

  it('concurrent repeats of one key write exactly one record; the others get 409 or the stored answer', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(`${running.url}/api/messages`, { content: 'once only' }, keyed('concurrent-1')),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
    for (const conflict of answers.filter((a) => a.status === 409)) {
      expectErrorShape(conflict.body, 409);
      expect(conflict.body.code).toBe('IDEMPOTENCY_KEY_IN_USE');
      expect(conflict.headers.get('retry-after')).toBe('1');
    }

    const replay = await post(`${running.url}/api/messages`, { content: 'once only' }, keyed('concurrent-1'));
    const first = answers.find((a) => a.status === 200)!;
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);

    const records = kcatReadAll(topic).filter((r) => r.headers['idempotency-key'] === 'concurrent-1');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ partition: first.body.partition, offset: first.body.offset });
  });

  it('the same key with another body is 422, a malformed key 400, and neither writes anything', async () => {
    expect(
      (await post(`${running.url}/api/messages/simple?content=a`, undefined, keyed('mismatch-1'))).status,
    ).toBe(200);
    const other = await post(`${running.url}/api/messages/simple?content=b`, undefined, keyed('mismatch-1'));
    expect(other.status).toBe(422);
    expectErrorShape(other.body, 422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_MISMATCH');

    const malformed = await post(
      `${running.url}/api/messages`,
      { content: 'x' },
      { 'Idempotency-Key': 'two words' },
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.details).toEqual([{ field: 'Idempotency-Key', reason: expect.any(String) }]);

    const records = kcatReadAll(topic).filter((r) => r.headers['idempotency-key'] === 'mismatch-1');
    expect(records).toHaveLength(1);
  });

  it('a batch is replayed whole: one transaction on the topic', async () => {
    const body = [{ content: 'b1' }, { content: 'b2' }, { content: 'b3' }];
    const first = await post(`${running.url}/api/messages/batch`, body, keyed('batch-1'));
    const again = await post(`${running.url}/api/messages/batch`, body, keyed('batch-1'));
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.body).toEqual(first.body);
    expect(kcatReadAll(topic).filter((r) => r.headers['idempotency-key'] === 'batch-1')).toHaveLength(3);
  });

  it('each record of a keyed request carries its own idempotency-id (key, route, place in the request), so consumers that drop duplicates by it drop no real message', async () => {
    const batchAnswer = await post(
      `${running.url}/api/messages/batch`,
      [{ content: 'i1' }, { content: 'i2' }],
      keyed('ids-1'),
    );
    const single = await post(`${running.url}/api/messages`, { content: 'i3' }, keyed('ids-1'));
    const simple = await post(`${running.url}/api/messages/simple?content=i4`, undefined, keyed('ids-1'));
    expect([batchAnswer.status, single.status, simple.status]).toEqual([200, 200, 200]);

    const records = kcatReadAll(topic).filter((r) => r.headers['idempotency-key'] === 'ids-1');
    expect(records.map((r) => r.headers['idempotency-id']).sort()).toEqual([
      '"ids-1";route="/api/messages";index=0',
      '"ids-1";route="/api/messages/batch";index=0',
      '"ids-1";route="/api/messages/batch";index=1',
      '"ids-1";route="/api/messages/simple";index=0',
    ]);
  });

  it('keys expire after IDEMPOTENCY_KEY_TTL_MS, and IDEMPOTENCY_ENABLED=false ignores them', async () => {
    const shortLived = await startApp({ KAFKA_TOPIC: topic, IDEMPOTENCY_KEY_TTL_MS: '1000' });
    const off = await startApp({ KAFKA_TOPIC: topic, IDEMPOTENCY_ENABLED: 'false' });
    try {
      const a = await post(`${shortLived.url}/api/messages`, { content: 'expiring' }, keyed('ttl-1'));
      const replay = await post(`${shortLived.url}/api/messages`, { content: 'expiring' }, keyed('ttl-1'));
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const b = await post(`${shortLived.url}/api/messages`, { content: 'expiring' }, keyed('ttl-1'));
      expect([a.status, replay.status, b.status]).toEqual([200, 200, 200]);
      expect(replay.body.messageId).toBe(a.body.messageId);
      expect(b.body.messageId).not.toBe(a.body.messageId);

      const x = await post(`${off.url}/api/messages`, { content: 'unkeyed' }, keyed('off-1'));
      const y = await post(`${off.url}/api/messages`, { content: 'unkeyed' }, keyed('off-1'));
      expect(y.body.messageId).not.toBe(x.body.messageId);
    } finally {
      await shortLived.close();
      await off.close();
    }
    expect(kcatReadAll(topic).filter((r) => r.headers['idempotency-key'] === 'ttl-1')).toHaveLength(2);
  });
});
