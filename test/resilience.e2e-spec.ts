import * as localKafka from '../scripts/kafka/local-kafka';
import { ServiceProcess, spawnService, startApp, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { kcatReadAll } from './support/kcat';
import { LoadResult, steadyLoad } from './support/load';

/** How long the broker stays down: the scenario itself (longer than every send and reconnect bound), not a wait. */
const OUTAGE_MS = 20_000;

/** Waits (bounded) until the load has had `count` answers of 200. */
const acknowledged = (load: LoadResult, count: number): Promise<void> =>
  eventually(() => expect(load.ok.length).toBeGreaterThanOrEqual(count), 15_000);

describe('graceful shutdown: SIGTERM during a steady load', () => {
  let service: ServiceProcess;
  const topic = uniqueTopic('sigterm');

  afterAll(() => {
    if (service.child.exitCode === null) {
      service.child.kill('SIGKILL');
    }
  });

  it('finishes every accepted send, refuses the rest, and exits 0 in time', async () => {
    service = await spawnService({ KAFKA_TOPIC: topic, SHUTDOWN_TIMEOUT_MS: '10000' });
    const { url, exited } = service;
    await eventually(
      async () => expect((await fetch(`${url}/actuator/health/readiness`)).status).toBe(200),
      30_000,
    );

    const load = steadyLoad(`${url}/api/messages`, { workers: 16, pauseMs: 0, marker: topic });
    // Under way: more than 50 sends acknowledged before the signal.
    await acknowledged(load.current, 51);
    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    const exit = await exited;
    const result = await load.stop();

    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(10_000);
    // Everything else was refused (connection error) or answered with an error: never a lost 200.
    expect(result.failures.filter((status) => status !== 0 && status !== 503)).toEqual([]);
    const landed = new Set(kcatReadAll(topic).map((r) => r.key));
    expect(result.ok.filter((id) => !landed.has(id))).toEqual([]);
  }, 90_000);
});

describe('broker outage of 20 s during a steady load', () => {
  const name = `resilience-${process.pid}`;

  afterAll(async () => {
    await localKafka.stop({ name });
  });

  it('answers 503 during the outage, loses no 200, and recovers without a restart', async () => {
    const broker = await localKafka.start({ name, quiet: true });
    const topic = uniqueTopic('outage');
    const running = await startApp({
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_PRODUCER_RETRY_BACKOFF_MS: '200',
    });
    try {
      const load = steadyLoad(`${running.url}/api/messages`, { workers: 8, pauseMs: 20, marker: topic });
      await acknowledged(load.current, 20);
      await localKafka.stop({ name });
      const stoppedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      // The window of the outage ends when the restart begins (the broker answers before start() returns).
      const restartedAt = Date.now();
      await localKafka.start({ name, keepData: true, quiet: true });
      // Recovered: the last 20 answers came after the restart and are all 200s; and over 100 sends were
      // acknowledged in all, enough that "no 200 lost" below means something.
      await eventually(() => {
        const last = load.current.timeline.slice(-20);
        expect(last.length === 20 && last.every((t) => t.at > restartedAt && t.status === 200)).toBe(true);
        expect(load.current.ok.length).toBeGreaterThan(100);
      }, 30_000);
      const result = await load.stop();

      const during = result.timeline.filter((t) => t.at > stoppedAt + 500 && t.at < restartedAt);
      expect(during.length).toBeGreaterThan(0);
      expect(new Set(during.map((t) => t.status))).toEqual(new Set([503]));
      expect(new Set(result.failures)).toEqual(new Set([503]));
      const after = result.timeline.filter((t) => t.at > restartedAt);
      expect(after.some((t) => t.status === 200)).toBe(true);
      expect(after.slice(-20).every((t) => t.status === 200)).toBe(true);
      const landed = new Set(kcatReadAll(topic, 'read_committed', broker.bootstrap).map((r) => r.key));
      expect(result.ok.filter((id) => !landed.has(id))).toEqual([]);
    } finally {
      await running.close();
    }
  }, 120_000);
});
