import { Metrics } from '../src/observability/metrics';
import { RunningApp, startApp } from './support/app';
import { post } from './support/http';
import { kcatRead } from './support/kcat';
import type { SendResultDto } from '../src/messages/dto/send-result.dto';

describe('POST /api/messages and /api/messages/simple (real broker, read back with kcat)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(async () => {
    await running.close();
  });

  it("publishes the seed's full-message curl example to demo-topic, keyed by the message id", async () => {
    const { status, body } = await post<SendResultDto>(`${running.url}/api/messages`, {
      content: 'Hello, Kafka!',
      type: 'INFO',
      source: 'api-test',
      metadata: { key1: 'value1', key2: 'value2' },
    });

    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'success', topic: 'demo-topic' });
    const [record] = kcatRead('demo-topic', body.partition, body.offset);
    expect(record?.key).toBe(body.messageId);
    expect(JSON.parse(record?.payload ?? '{}')).toEqual({
      id: body.messageId,
      content: 'Hello, Kafka!',
      type: 'INFO',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      source: 'api-test',
      metadata: { key1: 'value1', key2: 'value2' },
    });
    expect(record?.headers).toMatchObject({ 'content-type': 'application/json', 'message-type': 'INFO' });
  });

  it("publishes the seed's simple curl example, with the caller's request id as a header", async () => {
    const { status, body, headers } = await post<SendResultDto>(
      `${running.url}/api/messages/simple?content=Hello%20Kafka&type=INFO`,
      undefined,
      { 'X-Request-Id': 'seed-simple-1' },
    );

    expect(status).toBe(200);
    expect(headers.get('x-request-id')).toBe('seed-simple-1');
    const [record] = kcatRead('demo-topic', body.partition, body.offset);
    expect(JSON.parse(record?.payload ?? '{}')).toMatchObject({
      id: body.messageId,
      content: 'Hello Kafka',
      type: 'INFO',
    });
    expect(record?.headers['x-request-id']).toBe('seed-simple-1');
  });

  it('fills type INFO, a UUID id and a UTC timestamp when the caller gives none, and keeps given ones', async () => {
    const filled = await post<SendResultDto>(`${running.url}/api/messages`, { content: 'defaults' });
    const kept = await post<SendResultDto>(`${running.url}/api/messages`, {
      content: 'given',
      id: 'my-id-1',
      type: 'ERROR',
      timestamp: '2024-05-01T10:00:00',
    });

    const [filledRecord] = kcatRead('demo-topic', filled.body.partition, filled.body.offset);
    expect(JSON.parse(filledRecord?.payload ?? '{}')).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'INFO',
      source: null,
      metadata: null,
    });
    const [keptRecord] = kcatRead('demo-topic', kept.body.partition, kept.body.offset);
    expect(keptRecord?.key).toBe('my-id-1');
    expect(JSON.parse(keptRecord?.payload ?? '{}')).toMatchObject({
      id: 'my-id-1',
      type: 'ERROR',
      timestamp: '2024-05-01T10:00:00',
    });
  });

  it('sends every message with the same key to the same partition, in order', async () => {
    const results: SendResultDto[] = [];
    for (let i = 0; i < 20; i += 1) {
      results.push(
        (await post<SendResultDto>(`${running.url}/api/messages?key=order-42`, { content: `n${i}` })).body,
      );
    }
    const partitions = new Set(results.map((r) => r.partition));
    expect(partitions.size).toBe(1);
    const offsets = results.map((r) => r.offset);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    const records = kcatRead('demo-topic', results[0]!.partition, results[0]!.offset, 20);
    expect(records.map((r) => (JSON.parse(r.payload ?? '{}') as { content: string }).content)).toEqual(
      results.map((_, i) => `n${i}`),
    );
    expect(records.every((r) => r.key === 'order-42')).toBe(true);
  });

  it('spreads different keys over all 3 partitions', async () => {
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        post<SendResultDto>(`${running.url}/api/messages?key=k${i}`, { content: 'spread' }),
      ),
    );
    expect(new Set(results.map((r) => r.body.partition))).toEqual(new Set([0, 1, 2]));
  });

  it('coalesces 500 concurrent sends into far fewer produce requests, each send with its own partition and offset', async () => {
    // The test's 500 clients share one event loop with the service, so requests arrive slower than real
    // clients would send them; a 50 ms linger (KAFKA_PRODUCER_LINGER_MS) keeps the count independent of
    // how busy the machine is. The mechanism is the one production runs with its 5 ms default.
    const lingering = await startApp({ KAFKA_PRODUCER_LINGER_MS: '50' });
    const metrics = lingering.app.get(Metrics);
    const producesBefore = await produceRequests(metrics);

    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        post<SendResultDto>(`${lingering.url}/api/messages`, { content: `c${i}` }),
      ),
    ).finally(() => lingering.close());

    expect(results.map((r) => r.status)).toEqual(Array(500).fill(200));
    const positions = new Set(results.map((r) => `${r.body.partition}/${r.body.offset}`));
    expect(positions.size).toBe(500);
    const produces = (await produceRequests(metrics)) - producesBefore;
    expect(produces).toBeGreaterThan(0);
    expect(produces).toBeLessThan(100);
    // Each answer names where its own message is: read a sample back.
    for (const r of results.filter((_, i) => i % 50 === 0)) {
      const [record] = kcatRead('demo-topic', r.body.partition, r.body.offset);
      expect(record?.key).toBe(r.body.messageId);
    }
  });
});

/** Produce requests the app's producers sent, from kafkajs' own request instrumentation. */
async function produceRequests(metrics: Metrics): Promise<number> {
  const { values } = await metrics.kafkaRequests.get();
  return values.filter((v) => v.labels.api === 'Produce').reduce((sum, v) => sum + v.value, 0);
}
