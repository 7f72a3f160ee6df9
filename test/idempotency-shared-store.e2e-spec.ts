import * as localKafka from '../scripts/kafka/local-kafka';
import { RunningApp, ServiceProcess, spawnService, startApp, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { expectErrorShape, HttpResult, post } from './support/http';
import { kcatReadAll } from './support/kcat';
import { startRedis, TestRedis } from './support/redis';

const LEASE_MS = 2000;
const STORE_TIMEOUT_MS = 500;

/** A keyed POST /api/messages; `connection: close` so a WORKERS=2 instance answers from either worker. */
function send(url: string, key: string | undefined, content: string): Promise<HttpResult> {
  return post(
    `${url}/api/messages`,
    { content },
    { connection: 'close', ...(key === undefined ? {} : { 'Idempotency-Key': `"${key}"` }) },
  );
}

/** Records on `topic` that carry this Idempotency-Key header, read back by kcat. */
const recordsWithKey = (topic: string, key: string) =>
  kcatReadAll(topic).filter((r) => r.headers['idempotency-key'] === key);

/** Every process of the instance answers readiness (both workers of a WORKERS=2 one). */
async function ready(service: ServiceProcess): Promise<void> {
  await eventually(async () => {
    const states = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetch(`${service.url}/actuator/health/readiness`, { headers: { connection: 'close' } })
          .then((r) => r.status)
          .catch(() => 0),
      ),
    );
    expect(states).toEqual(states.map(() => 200));
  }, 60_000);
}

function kill(service: ServiceProcess | undefined): void {
  if (service && service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGKILL');
  }
}

describe('Idempotency-Key shared through Redis by two instances, one with WORKERS=2 (real broker, real redis-server)', () => {
  const topic = uniqueTopic('shared-keys');
  let redis: TestRedis;
  let single: ServiceProcess;
  let workers: ServiceProcess;
  const storeEnv = (): Record<string, string> => ({
    IDEMPOTENCY_STORE_URL: redis.url,
    IDEMPOTENCY_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
    IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
    // The tests read the store's health details, which callers without an API key do not see by default.
    HEALTH_SHOW_DETAILS: 'always',
  });

  beforeAll(async () => {
    redis = await startRedis();
    // A 50 ms linger keeps the first request in flight while its repeats arrive.
    const env = { ...storeEnv(), KAFKA_TOPIC: topic, KAFKA_PRODUCER_LINGER_MS: '50' };
    single = await spawnService(env);
    workers = await spawnService({ ...env, WORKERS: '2' });
    await Promise.all([ready(single), ready(workers)]);
  }, 90_000);
  afterAll(async () => {
    kill(single);
    kill(workers);
    await redis?.stop();
  });

  it('the same key sent concurrently to both instances writes one record, and every answer is that one', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        send(i % 2 === 0 ? single.url : workers.url, 'concurrent-1', 'once across instances'),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const conflict of answers.filter((a) => a.status === 409)) {
      expectErrorShape(conflict.body, 409);
      expect(conflict.body.code).toBe('IDEMPOTENCY_KEY_IN_USE');
    }
    const first = ok[0]!.body;
    expect(ok.map((a) => a.body)).toEqual(ok.map(() => first));

    // Afterwards every instance and worker replays that answer.
    for (const url of [single.url, workers.url, workers.url, single.url, workers.url]) {
      const replay = await send(url, 'concurrent-1', 'once across instances');
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first);
    }
    const records = recordsWithKey(topic, 'concurrent-1');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ partition: first.partition, offset: first.offset });
  });

  it('a repeat sent to the other instance after the 200 is replayed there, and another request with the key is 422', async () => {
    const first = await send(single.url, 'sequential-1', 'first');
    const repeat = await send(workers.url, 'sequential-1', 'first');
    const other = await send(workers.url, 'sequential-1', 'something else');

    expect([first.status, repeat.status, other.status]).toEqual([200, 200, 422]);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.body).toEqual(first.body);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_MISMATCH');
    expect(recordsWithKey(topic, 'sequential-1')).toHaveLength(1);
  });

  it('an instance keeps its in-flight key past the lease while alive, and once it is SIGKILLed the key is free after the lease', async () => {
    // The holder writes to a broker of its own, which is then frozen (SIGSTOP): its produce request is
    // sent and never answered, so the send stays in flight (SEND_TIMEOUT_MS is a minute) while the key's
    // owner is alive. The shared store is the only thing the holder and the other instances have in common.
    const name = `held-${process.pid}`;
    const frozen = await localKafka.start({ name, quiet: true });
    let holder: ServiceProcess | undefined;
    try {
      holder = await spawnService({
        ...storeEnv(),
        KAFKA_BROKERS: frozen.bootstrap,
        KAFKA_TOPIC: uniqueTopic('held'),
        SEND_TIMEOUT_MS: '60000',
      });
      await ready(holder);
      expect((await send(holder.url, undefined, 'producer connected')).status).toBe(200);
      process.kill(frozen.pid, 'SIGSTOP');

      const held = send(holder.url, 'held-1', 'held by a dying instance').then(
        (answer) => answer.status,
        () => 'connection lost',
      );
      // The holder has claimed the key (before that, another instance could claim it first).
      const url = holder.url;
      await eventually(async () =>
        expect(await (await fetch(`${url}/actuator/prometheus`)).text()).toContain(
          'http_idempotency_requests_total{outcome="new"} 1',
        ),
      );
      await eventually(async () =>
        expect((await send(single.url, 'held-1', 'held by a dying instance')).status).toBe(409),
      );
      // Two leases later the owner, alive and still sending, has kept its claim (it renews it).
      await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS));
      expect((await send(workers.url, 'held-1', 'held by a dying instance')).status).toBe(409);

      holder.child.kill('SIGKILL');
      const killedAt = (await holder.exited).at;
      expect(await held).toBe('connection lost');
      expect((await send(single.url, 'held-1', 'held by a dying instance')).status).toBe(409);

      const through = await eventually(async () => {
        const answer = await send(single.url, 'held-1', 'held by a dying instance');
        expect(answer.status).toBe(200);
        return answer;
      }, 3 * LEASE_MS);
      expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 1500);
      expect(through.headers.get('idempotent-replayed')).toBeNull();
      expect(recordsWithKey(topic, 'held-1')).toHaveLength(1);
    } finally {
      kill(holder);
      process.kill(frozen.pid, 'SIGCONT');
      await localKafka.stop({ name });
    }
  }, 90_000);

  it('when storing the answer fails after Kafka acknowledged, the client still gets its 200, and the failure is counted', async () => {
    // In-process, with a 1 s linger: time to freeze Redis between the claim and the acknowledgement.
    const lingering = await startApp({ ...storeEnv(), KAFKA_TOPIC: topic, KAFKA_PRODUCER_LINGER_MS: '1000' });
    const scrape = async (): Promise<string> => (await fetch(`${lingering.url}/actuator/prometheus`)).text();
    try {
      const answer = send(lingering.url, 'after-ack-1', 'acknowledged, not stored');
      await eventually(
        async () => expect(await scrape()).toContain('http_idempotency_requests_total{outcome="new"} 1'),
        5000,
        20,
      );
      redis.pause();
      let answered: HttpResult;
      try {
        answered = await answer;
      } finally {
        redis.resume();
      }
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ status: 'success', topic });
      expect(await scrape()).toMatch(
        /http_idempotency_store_errors_total\{operation="complete",error="TimeoutReadError"\} 1/,
      );
      expect(recordsWithKey(topic, 'after-ack-1')).toHaveLength(1);
    } finally {
      await lingering.close();
    }
  });

  it('a store that stops answering gives keyed requests 503 IDEMPOTENCY_STORE_UNAVAILABLE within the bound', async () => {
    redis.pause();
    try {
      const began = Date.now();
      const answer = await send(single.url, 'paused-1', 'store paused');
      const took = Date.now() - began;

      expect(answer.status).toBe(503);
      expectErrorShape(answer.body, 503);
      expect(answer.body.code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE');
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(took).toBeLessThan(STORE_TIMEOUT_MS + 1000);
      expect((await send(single.url, undefined, 'unkeyed while the store is paused')).status).toBe(200);
    } finally {
      redis.resume();
    }
    // The request that timed out took its claim back once the store answered again.
    await eventually(async () =>
      expect((await send(workers.url, 'paused-1', 'store paused')).status).toBe(200),
    );
    expect(recordsWithKey(topic, 'paused-1')).toHaveLength(1);
  });

  it('with Redis stopped, keyed requests get 503 and publish nothing, unkeyed ones are served, and keys work again once it is back', async () => {
    await redis.stop();

    for (const url of [single.url, workers.url]) {
      const began = Date.now();
      const keyed = await send(url, 'outage-1', 'store down');
      expect(Date.now() - began).toBeLessThan(STORE_TIMEOUT_MS + 1000);
      expect(keyed.status).toBe(503);
      expect(keyed.body.code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE');
      expect(keyed.headers.get('retry-after')).toBe('1');
      expect((await send(url, undefined, 'unkeyed while the store is down')).status).toBe(200);
    }
    // The store is a health component, outside readiness by default: the instance stays in rotation.
    const component = await fetch(`${single.url}/actuator/health/idempotencyStore`);
    expect(await component.json()).toMatchObject({ status: 'DOWN', details: { store: 'redis' } });
    expect((await fetch(`${single.url}/actuator/health/readiness`)).status).toBe(200);

    await redis.restart();
    const back = await eventually(async () => {
      const answer = await send(single.url, 'outage-1', 'store down');
      expect(answer.status).toBe(200);
      return answer;
    });
    const replay = await send(workers.url, 'outage-1', 'store down');
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(back.body);
    expect(recordsWithKey(topic, 'outage-1')).toHaveLength(1);
    expect(await (await fetch(`${single.url}/actuator/health/idempotencyStore`)).json()).toMatchObject({
      status: 'UP',
    });
  });
});

describe('Idempotency-Key store over TLS, with a user and password in the URL (rediss://)', () => {
  const topic = uniqueTopic('tls-keys');
  let redis: TestRedis;
  let running: RunningApp;

  beforeAll(async () => {
    redis = await startRedis({ tls: true, user: { name: 'producer', password: 's3cret/pw' } });
    running = await startApp({
      KAFKA_TOPIC: topic,
      IDEMPOTENCY_STORE_URL: redis.url,
      IDEMPOTENCY_STORE_CA_FILE: redis.caFile!,
      HEALTH_SHOW_DETAILS: 'always',
    });
  });
  afterAll(async () => {
    await running?.close();
    await redis?.stop();
  });

  it('claims, stores and replays keys through it, and shows it in health without the credentials', async () => {
    const component = await eventually(async () => {
      const body = (await (await fetch(`${running.url}/actuator/health/idempotencyStore`)).json()) as {
        status: string;
        details: { address: string };
      };
      expect(body.status).toBe('UP');
      return body;
    });
    expect(component.details.address).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);

    const first = await send(running.url, 'tls-1', 'over TLS');
    const again = await send(running.url, 'tls-1', 'over TLS');
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(recordsWithKey(topic, 'tls-1')).toHaveLength(1);
  });
});
