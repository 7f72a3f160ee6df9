import * as localKafka from '../scripts/kafka/local-kafka';
import { RunningApp, startApp } from './support/app';
import { eventually } from './support/eventually';
import { expectErrorShape, HttpResult, post } from './support/http';
import { kcatReadAll } from './support/kcat';

/**
 * A broker of this file's own, so stopping it does not disturb other tests. The service's retry budget
 * is shortened (3 attempts, 200 ms then 400 ms) to keep the test quick; the mechanism is the same.
 */
describe('broker outage: 503 within the retry budget, recovery without a restart', () => {
  const name = `outage-${process.pid}`;
  let broker: localKafka.StartedBroker;
  let running: RunningApp;

  beforeAll(async () => {
    broker = await localKafka.start({ name, quiet: true });
    running = await startApp({
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_PRODUCER_RETRY_BACKOFF_MS: '200',
      KAFKA_CONNECTION_TIMEOUT_MS: '1000',
      KAFKA_REQUEST_TIMEOUT_MS: '3000',
    });
  }, 90_000);
  afterAll(async () => {
    await running?.close();
    await localKafka.stop({ name });
  });

  it('answers 503 with Retry-After while Kafka is down, and 200 again once it is back', async () => {
    const before = await post(`${running.url}/api/messages`, { content: 'before the outage' });
    expect(before.status).toBe(200);

    await localKafka.stop({ name });
    const began = Date.now();
    const during = await post(`${running.url}/api/messages`, { content: 'during the outage' });
    const took = Date.now() - began;

    expect(during.status).toBe(503);
    expectErrorShape(during.body, 503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(JSON.stringify(during.body)).not.toMatch(/ECONNREFUSED|KafkaJS/);
    // Three attempts with 200 + 400 ms of backoff, each attempt bounded by kafkajs' short inner retry.
    expect(took).toBeLessThan(20_000);

    // The same broker comes back (same port and data), as after a crash or a rolling restart.
    broker = await localKafka.start({ name, keepData: true, quiet: true });
    await eventually(
      async () =>
        expect((await post(`${running.url}/api/messages`, { content: 'after the outage' })).status).toBe(200),
      45_000,
      1000,
    );
  }, 120_000);

  it('a send that failed during an outage frees its Idempotency-Key once it settles: the retry after it writes the record once', async () => {
    const key = { 'Idempotency-Key': '"outage-retry-1"' };
    await localKafka.stop({ name });
    const during = await post(`${running.url}/api/messages`, { content: 'keyed' }, key);
    expect(during.status).toBe(503);
    // Refused before a request (Kafka known to be down) or, when the request went to kafkajs, possibly
    // written: kafkajs resends a failed request itself and reports only its last attempt's error.
    expect(['KAFKA_UNAVAILABLE', 'KAFKA_OUTCOME_UNKNOWN']).toContain(during.body.code);

    broker = await localKafka.start({ name, keepData: true, quiet: true });
    // Until the broker is back the retries are refused (503) or find the key still in flight (409).
    const refused: number[] = [];
    const retry = await eventually(
      async (): Promise<HttpResult> => {
        const answer = await post(`${running.url}/api/messages`, { content: 'keyed' }, key);
        if (answer.status !== 200) {
          refused.push(answer.status);
        }
        expect(answer.status).toBe(200);
        return answer;
      },
      45_000,
      1000,
    );
    expect(refused.filter((status) => status !== 503 && status !== 409)).toEqual([]);
    const replay = await post(`${running.url}/api/messages`, { content: 'keyed' }, key);
    expect(replay.body).toEqual(retry.body);
    const records = kcatReadAll('demo-topic', 'read_committed', broker.bootstrap).filter(
      (r) => r.headers['idempotency-key'] === 'outage-retry-1',
    );
    expect(records).toHaveLength(1);
  }, 120_000);
});
