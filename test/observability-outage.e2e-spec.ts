import * as localKafka from '../scripts/kafka/local-kafka';
import { RunningApp, startApp } from './support/app';
import { get } from './support/http';
import { eventually } from './support/eventually';

const BROKER = 'obs-outage';

interface Health {
  status: string;
  components?: Record<string, { status: string; details?: Record<string, unknown> }>;
}

describe('/actuator/health through a broker outage (a dedicated real broker, stopped and restarted)', () => {
  let running: RunningApp;
  let port: number;
  // Each liveness probe's status, or its failure's message: a probe that fails is a finding, never an
  // unhandled rejection; the last one in flight is awaited before the app closes.
  const liveness: (number | string)[] = [];
  let watching: NodeJS.Timeout | undefined;
  let probe: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    const broker = await localKafka.start({ name: BROKER, quiet: true });
    port = broker.port;
    // HEALTH_SHOW_DETAILS=always: the outage's error text is read without an API key.
    running = await startApp({
      KAFKA_BROKERS: broker.bootstrap,
      HEALTH_CACHE_MS: '500',
      HEALTH_SHOW_DETAILS: 'always',
    });
    // Liveness is sampled all along, outage included.
    watching = setInterval(() => {
      probe = get(`${running.url}/actuator/health/liveness`).then(
        (r) => void liveness.push(r.status),
        (error: Error) => void liveness.push(`${error.message}: ${String(error.cause)}`),
      );
    }, 250);
  }, 60000);
  afterAll(async () => {
    clearInterval(watching);
    await probe;
    await running?.close();
    await localKafka.stop({ name: BROKER });
  }, 60000);

  const health = (): Promise<{ status: number; body: Health }> =>
    get<Health>(`${running.url}/actuator/health`);

  it('is UP, goes DOWN with 503 within seconds of the broker stopping, and UP again after it restarts', async () => {
    await eventually(async () => expect((await health()).status).toBe(200), 20000);

    await localKafka.stop({ name: BROKER });
    await eventually(async () => expect((await health()).status).toBe(503), 15000);
    const down = await health();
    const readinessDown = await get<Health>(`${running.url}/actuator/health/readiness`);

    expect(down.body).toMatchObject({
      status: 'DOWN',
      components: { kafka: { status: 'DOWN', details: { error: expect.any(String) } } },
    });
    expect(readinessDown.status).toBe(503);

    await localKafka.start({ name: BROKER, port, quiet: true });
    await eventually(async () => expect((await health()).status).toBe(200), 30000);
    const up = await health();

    expect(up.body).toMatchObject({
      status: 'UP',
      components: { kafka: { status: 'UP', details: { brokerCount: 1 } } },
    });
    expect((await get(`${running.url}/actuator/health/readiness`)).status).toBe(200);
    expect(liveness.length).toBeGreaterThan(0);
    expect(liveness.filter((status) => status !== 200)).toEqual([]);
  }, 60000);
});
