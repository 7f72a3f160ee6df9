import { availableParallelism } from 'node:os';
import { ServiceProcess, spawnService, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { kcatReadAll } from './support/kcat';
import { steadyLoad } from './support/load';

/** kafka_producer_messages_sent_total summed over its series in one scrape. */
async function sentTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/actuator/prometheus`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('kafka_producer_messages_sent_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('WORKERS=2: two processes behind one port', () => {
  let service: ServiceProcess;
  const topic = uniqueTopic('workers');

  afterAll(() => {
    if (service.child.exitCode === null) {
      service.child.kill('SIGKILL');
    }
  });

  it('serves from both workers, sums their metrics in every scrape, and stops cleanly on SIGTERM with every 200 on the topic once', async () => {
    service = await spawnService({ KAFKA_TOPIC: topic, WORKERS: '2', SHUTDOWN_TIMEOUT_MS: '10000' });
    const { url, exited } = service;
    // Both workers ready: readiness answers 200 from whichever worker gets the connection.
    await eventually(async () => {
      const states = await Promise.all(
        Array.from({ length: 6 }, () =>
          fetch(`${url}/actuator/health/readiness`, { headers: { connection: 'close' } })
            .then((r) => r.status)
            .catch(() => 0),
        ),
      );
      expect(states).toEqual(states.map(() => 200));
    }, 30_000);

    const load = steadyLoad(`${url}/api/messages`, { workers: 16, pauseMs: 0, marker: topic });
    // Over 100 sends acknowledged (bounded wait), so the sums below add up real traffic on both workers.
    await eventually(() => expect(load.current.ok.length).toBeGreaterThan(100), 15_000);
    const result = await load.stop();
    expect(result.failures).toEqual([]);

    // Whichever worker answers the scrape, the counter is the sum over both workers.
    for (let i = 0; i < 4; i += 1) {
      const response = await fetch(`${url}/actuator/prometheus`, { headers: { connection: 'close' } });
      expect(response.status).toBe(200);
      // Read to the end: undici asserts (uncatchably) when a server closes a socket whose body is unread.
      await response.arrayBuffer();
      expect(await sentTotal(url)).toBe(result.ok.length);
    }
    // Both workers produced: each has its own idempotent producer, so two producer connections exist.
    const text = await (await fetch(`${url}/actuator/prometheus`)).text();
    expect(text).toMatch(/kafka_producer_connected\{producer="idempotent"\} 2/);
    // Machine-wide gauges are one worker's, not a sum; process.start.time is left out of the aggregate.
    const cpus = (await (await fetch(`${url}/actuator/metrics/system.cpu.count`)).json()) as {
      measurements: { value: number }[];
    };
    expect(cpus.measurements[0]?.value).toBe(availableParallelism());
    expect((await fetch(`${url}/actuator/metrics/process.start.time`)).status).toBe(404);

    service.child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
    const records = kcatReadAll(topic);
    const keys = records.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    const landed = new Set(keys);
    expect(result.ok.filter((id) => !landed.has(id))).toEqual([]);
    expect(records).toHaveLength(result.ok.length);
  }, 90_000);
});
