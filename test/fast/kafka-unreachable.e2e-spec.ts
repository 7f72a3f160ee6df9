import { RunningApp, startApp } from '../support/app';
import { expectErrorShape, get, post } from '../support/http';

interface Health {
  status: string;
  components?: Record<string, { status: string }>;
}

describe('the service with Kafka unreachable (nothing listens at KAFKA_BROKERS)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ SEND_TIMEOUT_MS: '3000' });
  });
  afterAll(async () => {
    await running?.close();
  });

  it('starts and is alive, but not ready: Kafka DOWN', async () => {
    const liveness = await get<Health>(`${running.url}/actuator/health/liveness`);
    const readiness = await get<Health>(`${running.url}/actuator/health/readiness`);

    expect(liveness).toMatchObject({ status: 200, body: { status: 'UP' } });
    expect(readiness.status).toBe(503);
    expect(readiness.body).toMatchObject({ status: 'DOWN', components: { kafka: { status: 'DOWN' } } });
  });

  it('answers a valid send with 503 KAFKA_UNAVAILABLE within SEND_TIMEOUT_MS, never a 200', async () => {
    const began = Date.now();
    const result = await post(`${running.url}/api/messages`, { content: 'nobody will store this' });

    expect(result.status).toBe(503);
    expectErrorShape(result.body, 503);
    expect(result.body.code).toBe('KAFKA_UNAVAILABLE');
    expect(Date.now() - began).toBeLessThan(3000 + 1000);
  });
});
