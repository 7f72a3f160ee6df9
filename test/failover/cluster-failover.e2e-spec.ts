import { Kafka, logLevel } from 'kafkajs';
import { hostname } from 'node:os';
import * as localKafka from '../../scripts/kafka/local-kafka';
import { RunningApp, startApp, uniqueTopic } from '../support/app';
import { eventually } from '../support/eventually';
import { post } from '../support/http';
import type { BatchResultDto } from '../../src/messages/dto/send-result.dto';
import { kcatReadAll } from '../support/kcat';
import { LoadResult, steadyLoad } from '../support/load';
import { partitionForKey } from '../../src/kafka/partitioner';

/**
 * The service in front of a replicated cluster: 3 combined KRaft nodes of this file's own, a topic with
 * replication factor 3 and min.insync.replicas=2, a steady load of unique message ids, and one node (or
 * two) taken away under it. Every record is read back with kcat (read_committed) from the cluster.
 */
const name = `failover-${process.pid}`;
const SEND_TIMEOUT_MS = 10_000;
const DOCUMENTED_503 = ['KAFKA_UNAVAILABLE', 'KAFKA_OUTCOME_UNKNOWN'];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: localKafka.StartedBroker;

/** The node leading `partition` of `topic`, from the cluster's metadata. */
async function leaderOf(topic: string, partition = 0): Promise<number> {
  const admin = new Kafka({
    clientId: 'failover-test-admin',
    brokers: cluster.bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const leader = topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
    if (leader === undefined || leader < 0) {
      throw new Error(`${topic}-${partition} has no leader`);
    }
    return leader;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The `__transaction_state` partition that holds a transactional id, so the node leading it is the id's
 * transaction coordinator: Kafka takes Java's String.hashCode of the id, its absolute value (Utils.abs: 0
 * for Integer.MIN_VALUE), modulo the topic's partitions (`transaction.state.log.num.partitions=5` in the
 * launcher's broker configuration).
 */
function transactionStatePartition(transactionalId: string, partitions = 5): number {
  let hash = 0;
  for (let i = 0; i < transactionalId.length; i++) {
    hash = (Math.imul(31, hash) + transactionalId.charCodeAt(i)) | 0;
  }
  return (hash === -0x80000000 ? 0 : Math.abs(hash)) % partitions;
}

interface Scenario {
  topic: string;
  result: LoadResult;
  /** How often each key is on the topic. */
  copies: Map<string, number>;
}

/** Runs the service on a fresh topic under load, calls `disrupt` after 2 s of it, and reads the topic back. */
async function underLoad(
  prefix: string,
  disrupt: (topic: string, url: string) => Promise<void>,
  sendTimeoutMs = SEND_TIMEOUT_MS,
): Promise<Scenario> {
  const topic = uniqueTopic(prefix);
  const running: RunningApp = await startApp({
    KAFKA_BROKERS: cluster.bootstrap,
    KAFKA_TOPIC: topic,
    KAFKA_TOPIC_REPLICATION_FACTOR: '3',
    KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
    SEND_TIMEOUT_MS: String(sendTimeoutMs),
  });
  try {
    const load = steadyLoad(`${running.url}/api/messages`, { workers: 8, pauseMs: 20, marker: topic });
    await sleep(2000);
    await disrupt(topic, running.url);
    const result = await load.stop();
    // Restarted nodes may still be electing leaders, and kcat skips a partition that has none: read until
    // every acknowledged id is there (bounded), so an offline partition is not taken for lost records. A
    // record really lost is still missing after that, and lostAcks names it.
    const readCopies = (): Map<string, number> => {
      const copies = new Map<string, number>();
      for (const record of kcatReadAll(topic, 'read_committed', cluster.bootstrap)) {
        copies.set(record.key ?? '', (copies.get(record.key ?? '') ?? 0) + 1);
      }
      return copies;
    };
    let firstMissing: number | undefined;
    const copies = await eventually(
      () => {
        const read = readCopies();
        const missing = result.ok.filter((id) => !read.has(id)).length;
        firstMissing ??= missing;
        if (missing > 0) {
          throw new Error(`${missing} acknowledged ids not readable yet`);
        }
        return read;
      },
      20_000,
      1000,
    ).catch(readCopies);
    if (firstMissing) {
      // Evidence for the next reader of a CI log: missing at first, then found (or not: lostAcks fails).
      process.stderr.write(
        `${prefix}: ${firstMissing} acknowledged ids were not readable on the first read\n`,
      );
    }
    return { topic, result, copies };
  } finally {
    await running.close();
  }
}

/**
 * The acknowledged keys that are not on the topic exactly once (read_committed, with kcat), read until
 * every one is there (bounded: a restarted node may still be electing leaders).
 */
async function notOnTheTopicOnce(topic: string, acknowledged: string[]): Promise<string[]> {
  const copies = await eventually(
    () => {
      const read = new Map<string, number>();
      for (const record of kcatReadAll(topic, 'read_committed', cluster.bootstrap)) {
        read.set(record.key ?? '', (read.get(record.key ?? '') ?? 0) + 1);
      }
      expect(acknowledged.filter((key) => !read.has(key))).toEqual([]);
      return read;
    },
    20_000,
    1000,
  );
  return acknowledged.filter((key) => copies.get(key) !== 1);
}

function lostAcks({ result, copies }: Scenario): string[] {
  return result.ok.filter((id) => !copies.has(id));
}

function duplicates({ copies }: Scenario): string[] {
  return [...copies.entries()].filter(([, count]) => count > 1).map(([key]) => key);
}

/** Every answer other than 200, as "status code after ms" (0: no answer), so a failure says what it was. */
function not200({ timeline }: LoadResult): string[] {
  return timeline
    .filter((t) => t.status !== 200)
    .map((t) => `${t.status} ${t.code ?? ''} after ${t.at - t.startedAt} ms`);
}

/** Answers other than 200 and the documented 503s, as "status code". */
function undocumentedFailures({ result }: Scenario): string[] {
  return result.timeline
    .filter((t) => t.status !== 200 && !(t.status === 503 && DOCUMENTED_503.includes(t.code ?? '')))
    .map((t) => `${t.status} ${t.code ?? ''}`);
}

/** The `n`th key of `topic` whose records go to `partition` (of 3), as the service's partitioner picks it. */
function keyFor(topic: string, partition: number, n: number): string {
  for (let i = 0; ; i++) {
    const key = `${topic}-p${partition}-${n}-${i}`;
    if (partitionForKey(key, 3) === partition) {
      return key;
    }
  }
}

/** An open-model probe's answer: when it began and was answered, its status and error code. */
interface ProbeAnswer {
  startedAt: number;
  at: number;
  status: number;
  code?: string;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

beforeAll(async () => {
  process.once('exit', () => localKafka.killNow(name));
  cluster = await localKafka.start({ name, nodes: 3, quiet: true });
}, 90_000);

afterAll(async () => {
  await localKafka.stop({ name, timeoutMs: 5000 });
}, 30_000);

describe('failover on a 3-node KRaft cluster (replication factor 3, min.insync.replicas=2)', () => {
  it('the leader shut down with SIGTERM (controlled shutdown): no client sees an error, nothing lost or doubled', async () => {
    const scenario = await underLoad('failover-sigterm', async (topic) => {
      const leader = await leaderOf(topic);
      await localKafka.terminateNode({ name, id: leader });
      await sleep(1000);
      await localKafka.restartNode({ name, id: leader });
      await sleep(1000);
    });

    expect(scenario.result.ok.length).toBeGreaterThan(100);
    expect(not200(scenario.result)).toEqual([]);
    expect(lostAcks(scenario)).toEqual([]);
    expect(duplicates(scenario)).toEqual([]);
  }, 90_000);

  it('the leader killed (SIGKILL) and restarted: waits for the new leader within the deadline, nothing lost or doubled', async () => {
    let killedAt = 0;
    const scenario = await underLoad('failover-kill', async (topic) => {
      const leader = await leaderOf(topic);
      killedAt = Date.now();
      await localKafka.killNode({ name, id: leader });
      await sleep(5000);
      await localKafka.restartNode({ name, id: leader });
      await sleep(2000);
    });

    const { result } = scenario;
    const times = result.timeline
      .filter((t) => t.startedAt >= killedAt - 1000 && t.startedAt <= killedAt + 6000)
      .map((t) => t.at - t.startedAt)
      .sort((a, b) => a - b);
    process.stderr.write(
      `\nanswer times of requests begun from 1 s before to 6 s after the leader was killed: ` +
        `n=${times.length} p50=${percentile(times, 0.5)} ms p99=${percentile(times, 0.99)} ms ` +
        `max=${times[times.length - 1]} ms; ${result.ok.length} acknowledged, ${result.failures.length} not\n`,
    );
    expect(result.ok.length).toBeGreaterThan(100);
    // The new leader is elected within ~3.5 s, well inside the 10 s deadline: every caller gets its 200.
    expect(not200(result)).toEqual([]);
    expect(lostAcks(scenario)).toEqual([]);
    expect(duplicates(scenario)).toEqual([]);
    // Bounded: no answer later than the send deadline (plus the HTTP round trip's slack).
    expect(Math.max(...result.timeline.map((t) => t.at - t.startedAt))).toBeLessThan(SEND_TIMEOUT_MS + 1000);
    // Recovered without a restart of the service: the last 2 s were all 200.
    const end = result.timeline[result.timeline.length - 1]!.at;
    const last = result.timeline.filter((t) => t.startedAt > end - 2000);
    expect(last.length).toBeGreaterThan(0);
    expect(last.filter((t) => t.status !== 200)).toEqual([]);
  }, 90_000);

  it('a leader frozen (SIGSTOP, its connections open): its partition reaches the new leader while the node is still frozen, every caller gets 200, readiness stays UP, nothing lost or doubled', async () => {
    const topic = uniqueTopic('failover-frozen');
    const running = await startApp({
      KAFKA_BROKERS: cluster.bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
      SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
    });
    // Open-model probes: one request per partition every 100 ms, each keyed to its partition, none waiting
    // for another, so a stuck partition cannot slow the probes of the others.
    const answers: (ProbeAnswer & { partition: number; key: string })[] = [];
    const pending: Promise<void>[] = [];
    let probing = true;
    const probes = (async () => {
      for (let n = 0; probing; n++) {
        for (const partition of [0, 1, 2]) {
          const key = keyFor(topic, partition, n);
          const startedAt = Date.now();
          pending.push(
            post(`${running.url}/api/messages/simple?content=${key}&key=${key}`).then(
              (answer) =>
                void answers.push({
                  partition,
                  key,
                  startedAt,
                  at: Date.now(),
                  status: answer.status,
                  code: answer.body.code as string | undefined,
                }),
              () => void answers.push({ partition, key, startedAt, at: Date.now(), status: 0 }),
            ),
          );
        }
        await sleep(100);
      }
    })();
    // Readiness, every 200 ms, on its own: whether a load balancer would keep sending this instance traffic.
    const readiness: { at: number; status: number; body?: string }[] = [];
    const polls = (async () => {
      while (probing) {
        const at = Date.now();
        const answer = await fetch(`${running.url}/actuator/health/readiness`).then(
          async (response) => ({ status: response.status, body: await response.text() }),
          () => ({ status: 0, body: undefined }),
        );
        readiness.push({ at, ...answer });
        await sleep(200);
      }
    })();
    let leader = 0;
    let frozenAt = 0;
    let thawedAt = 0;
    try {
      await sleep(2000);
      leader = await leaderOf(topic);
      frozenAt = Date.now();
      localKafka.freezeNode({ name, id: leader });
      // The controller fences the silent node after 3 s (broker.session.timeout.ms here) and elects new
      // leaders; the service gives up a produce request unanswered for the acks timeout and 1 s (3.5 s).
      await sleep(14_000);
    } finally {
      localKafka.thawNode({ name, id: leader });
      thawedAt = Date.now();
    }
    await sleep(3000);
    probing = false;
    await Promise.all([probes, polls]);
    await Promise.all(pending);
    await running.close();

    const late = (from: number) =>
      answers.filter((a) => a.startedAt >= frozenAt + from && a.startedAt <= thawedAt - 2000);
    process.stderr.write(
      `\nnode ${leader} (leader of partition 0) frozen for ${thawedAt - frozenAt} ms: ` +
        [0, 1, 2]
          .map((partition) => {
            const times = answers
              .filter((a) => a.partition === partition && a.startedAt >= frozenAt)
              .map((a) => a.at - a.startedAt)
              .sort((a, b) => a - b);
            return `partition ${partition} n=${times.length} p50=${percentile(times, 0.5)} max=${times[times.length - 1]} ms`;
          })
          .join('; ') +
        `; readiness: ${readiness.filter((r) => r.at >= frozenAt && r.status !== 200).length} of ` +
        `${readiness.filter((r) => r.at >= frozenAt).length} checks not 200\n` +
        readiness
          .filter((r) => r.at >= frozenAt && r.status !== 200)
          .map((r) => `  ${r.at - frozenAt} ms: ${r.status} ${r.body ?? ''}\n`)
          .join(''),
    );
    expect(answers.length).toBeGreaterThan(400);
    // Every caller hears 200, within the deadline: the cluster moved the leadership well inside it.
    expect(
      answers.filter((a) => a.status !== 200).map((a) => `${a.partition}: ${a.status} ${a.code ?? ''}`),
    ).toEqual([]);
    expect(Math.max(...answers.map((a) => a.at - a.startedAt))).toBeLessThan(SEND_TIMEOUT_MS + 1000);
    // Not held until the node came back: requests begun 8 s into the freeze (fenced after 3 s, a produce
    // request given up after 3.5 s, twice) were answered while it was still frozen, on every partition.
    const afterFailover = late(8000);
    expect(afterFailover.length).toBeGreaterThan(30);
    expect(
      afterFailover
        .filter((a) => a.at >= thawedAt)
        .map((a) => `${a.partition} after ${a.at - a.startedAt} ms`),
    ).toEqual([]);
    expect(new Set(afterFailover.map((a) => a.partition))).toEqual(new Set([0, 1, 2]));
    // Readiness is UP once the service has given up on the silent node (the checks of the first seconds may
    // have asked it, and time out): one frozen node does not take the instance out of a load balancer.
    const readyLate = readiness.filter((r) => r.at >= frozenAt + 10_000 && r.at <= thawedAt);
    expect(readyLate.length).toBeGreaterThan(8);
    expect(
      readyLate
        .filter((r) => r.status !== 200)
        .map((r) => `${r.at - frozenAt} ms into the freeze: ${r.status} ${r.body ?? ''}`),
    ).toEqual([]);
    expect(
      await notOnTheTopicOnce(
        topic,
        answers.map((a) => a.key),
      ),
    ).toEqual([]);
  }, 120_000);

  it('batches while their transaction coordinator is killed: they commit again on the new one, nothing lost or doubled', async () => {
    const topic = uniqueTopic('failover-txn');
    const prefix = `failover-txn-${Date.now()}-`;
    // One transactional producer, so one transactional id and one coordinator (config: prefix, host, pid).
    const transactionalId = `${prefix}${hostname()}-${process.pid}-0`;
    const running = await startApp({
      KAFKA_BROKERS: cluster.bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
      KAFKA_TRANSACTION_POOL_SIZE: '1',
      KAFKA_TRANSACTIONAL_ID_PREFIX: prefix,
      SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
    });
    const acked: string[] = [];
    const failed: string[] = [];
    let n = 0;
    const batch = async (): Promise<number> => {
      const ids = [0, 1, 2].map((i) => `${topic}-${n}-${i}`);
      n += 1;
      const answer = await post<BatchResultDto>(
        `${running.url}/api/messages/batch`,
        ids.map((id) => ({ id, content: id })),
      );
      if (answer.status === 200) {
        acked.push(...ids);
      } else {
        failed.push(`${answer.status} ${String((answer.body as unknown as { code?: string }).code)}`);
      }
      return answer.status;
    };
    let coordinator = 0;
    try {
      // The producer has looked its coordinator up and kept it.
      await eventually(async () => expect(await batch()).toBe(200), 30_000, 500);
      for (let i = 0; i < 3; i++) {
        expect(await batch()).toBe(200);
      }
      coordinator = await leaderOf('__transaction_state', transactionStatePartition(transactionalId));
      failed.length = 0;

      await localKafka.killNode({ name, id: coordinator });
      // Batches go on while that node is dead: each commits or gets a documented 503, and they commit again
      // once another node leads the transaction state, without a restart of the service.
      await eventually(async () => expect(await batch()).toBe(200), 30_000, 200);
      const moved = await leaderOf('__transaction_state', transactionStatePartition(transactionalId));
      for (let i = 0; i < 3; i++) {
        expect(await batch()).toBe(200);
      }

      expect(moved).not.toBe(coordinator);
      expect(failed.filter((f) => !DOCUMENTED_503.some((code) => f === `503 ${code}`))).toEqual([]);
    } finally {
      await running.close();
      if (coordinator) {
        await localKafka.restartNode({ name, id: coordinator });
      }
    }
    // Read until every acknowledged id is there (a restarted node may still be electing leaders), then
    // each exactly once.
    expect(acked.length).toBeGreaterThanOrEqual(24);
    expect(await notOnTheTopicOnce(topic, acked)).toEqual([]);
  }, 120_000);

  it('batches while a leader is frozen (SIGSTOP): those through its partition commit on the new leader while it is still frozen, the others throughout; every record acknowledged is on the topic once', async () => {
    const topic = uniqueTopic('failover-frozen-txn');
    const prefix = `failover-frozen-txn-${Date.now()}-`;
    const running = await startApp({
      KAFKA_BROKERS: cluster.bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
      KAFKA_TRANSACTION_POOL_SIZE: '2',
      KAFKA_TRANSACTIONAL_ID_PREFIX: prefix,
      SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
    });
    const batch = (partitions: number[], n: number) => {
      const keys = partitions.map((partition) => keyFor(topic, partition, n));
      return post(
        `${running.url}/api/messages/batch`,
        keys.map((id) => ({ id, content: id })),
      ).then((answer) => ({ keys, answer }));
    };
    let frozen = 0;
    let frozenAt = 0;
    let thawedAt = 0;
    const answers: (ProbeAnswer & { through: boolean; keys: string[] })[] = [];
    const pending: Promise<void>[] = [];
    let probing = true;
    try {
      // Both producers of the pool have their coordinator; the node frozen leads a partition of the topic
      // and neither coordinator (a frozen coordinator holds its transactions for 30 s: patches/).
      await eventually(async () => expect((await batch([0, 1], 0)).answer.status).toBe(200), 30_000, 500);
      const coordinators = await Promise.all(
        [0, 1].map((i) =>
          leaderOf(
            '__transaction_state',
            transactionStatePartition(`${prefix}${hostname()}-${process.pid}-${i}`),
          ),
        ),
      );
      const leaders = await Promise.all([0, 1, 2].map((partition) => leaderOf(topic, partition)));
      const target = leaders.findIndex((leader) => !coordinators.includes(leader));
      expect(target).toBeGreaterThanOrEqual(0);
      frozen = leaders[target]!;
      // Open-model probes, every 200 ms: a batch through the frozen leader's partition (and the next one),
      // and a batch away from it (the other two).
      const through = [target, (target + 1) % 3];
      const away = [(target + 1) % 3, (target + 2) % 3];
      const probes = (async () => {
        for (let n = 1; probing; n++) {
          for (const [isThrough, partitions] of [
            [true, through],
            [false, away],
          ] as const) {
            const startedAt = Date.now();
            pending.push(
              batch(partitions, n * 2 + (isThrough ? 0 : 1)).then(
                ({ keys, answer }) =>
                  void answers.push({
                    through: isThrough,
                    keys,
                    startedAt,
                    at: Date.now(),
                    status: answer.status,
                    code: (answer.body as { code?: string }).code,
                  }),
                () =>
                  void answers.push({ through: isThrough, keys: [], startedAt, at: Date.now(), status: 0 }),
              ),
            );
          }
          await sleep(200);
        }
      })();
      await sleep(2000);
      frozenAt = Date.now();
      localKafka.freezeNode({ name, id: frozen });
      await sleep(14_000);
      localKafka.thawNode({ name, id: frozen });
      thawedAt = Date.now();
      await sleep(3000);
      probing = false;
      await probes;
      await Promise.all(pending);
    } finally {
      probing = false;
      if (frozen && !thawedAt) {
        localKafka.thawNode({ name, id: frozen });
      }
      await running.close();
    }

    const since = (a: { startedAt: number }) => a.startedAt - frozenAt;
    process.stderr.write(
      `\nnode ${frozen} frozen for ${thawedAt - frozenAt} ms under batches: ` +
        [true, false]
          .map((isThrough) => {
            const mine = answers.filter((a) => a.through === isThrough && since(a) >= 0);
            const times = mine.map((a) => a.at - a.startedAt).sort((a, b) => a - b);
            return (
              `${isThrough ? 'through' : 'away from'} its partition n=${mine.length} ` +
              `p50=${percentile(times, 0.5)} max=${times[times.length - 1]} ms, ` +
              `${mine.filter((a) => a.status !== 200).length} not 200`
            );
          })
          .join('; ') +
        '\n',
    );
    expect(answers.length).toBeGreaterThan(150);
    // Each caller hears 200 or a documented 503, within the deadline.
    expect(
      answers
        .filter((a) => a.status !== 200 && !(a.status === 503 && DOCUMENTED_503.includes(a.code ?? '')))
        .map((a) => `${a.status} ${a.code ?? ''} ${since(a)} ms into the freeze`),
    ).toEqual([]);
    expect(Math.max(...answers.map((a) => a.at - a.startedAt))).toBeLessThan(SEND_TIMEOUT_MS + 1000);
    // From 8 s into the freeze (fenced after 3 s, a produce request given up after 3.5 s) every batch, through
    // the frozen leader's partition or not, commits.
    const afterFailover = answers.filter((a) => since(a) >= 8000 && a.startedAt <= thawedAt - 2000);
    expect(afterFailover.filter((a) => a.through).length).toBeGreaterThan(10);
    expect(
      afterFailover
        .filter((a) => a.status !== 200)
        .map(
          (a) =>
            `${a.through ? 'through' : 'away'}: ${a.status} ${a.code ?? ''} after ${a.at - a.startedAt} ms`,
        ),
    ).toEqual([]);
    // And those through its partition commit on the new leader while the node is still frozen: at least ten
    // of them are answered before the thaw. (Not every one: a producer whose last transaction's markers went
    // to the frozen node is held by the coordinator until the node runs again, and a batch may wait for it
    // when the pool's other producer is busy.)
    const committedWhileFrozen = afterFailover.filter((a) => a.through && a.at < thawedAt);
    expect(committedWhileFrozen.length).toBeGreaterThanOrEqual(10);
    // Every record of a committed batch is on the topic exactly once (read_committed, kcat).
    expect(
      await notOnTheTopicOnce(
        topic,
        answers.filter((a) => a.status === 200).flatMap((a) => a.keys),
      ),
    ).toEqual([]);
  }, 120_000);

  it("one partition's only replica down: the other partitions keep answering 200 at once, the stuck one gets the documented 503 at the deadline", async () => {
    // Replication factor 1, one partition on each node: stopping a node leaves its partition without a
    // leader, and only that one.
    const topic = uniqueTopic('partition-outage');
    const admin = new Kafka({
      clientId: 'partition-outage-admin',
      brokers: cluster.bootstrap.split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic,
          replicaAssignment: [0, 1, 2].map((partition) => ({ partition, replicas: [partition + 1] })),
        },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const running = await startApp({
      KAFKA_BROKERS: cluster.bootstrap,
      KAFKA_TOPIC: topic,
      SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
    });
    const send = async (partition: number, n: number) => {
      const key = keyFor(topic, partition, n);
      const began = Date.now();
      const answer = await post(`${running.url}/api/messages/simple?content=${key}&key=${key}`);
      return {
        key,
        partition,
        status: answer.status,
        code: answer.body.code,
        body: answer.body,
        ms: Date.now() - began,
      };
    };
    const acknowledged: string[] = [];
    try {
      // Warm: every partition answers, so the service knows the topic and each leader.
      await eventually(
        async () => {
          for (const partition of [0, 1, 2]) {
            expect((await send(partition, 0)).status).toBe(200);
          }
        },
        30_000,
        500,
      );
      const before = await Promise.all(
        [1, 2].flatMap((partition) => [1, 2, 3, 4].map((n) => send(partition, n))),
      );
      expect(before.map((r) => r.status)).toEqual(before.map(() => 200));

      await localKafka.killNode({ name, id: 1 }); // partition 0's only replica
      // Requests for partition 0 begin first, then 24 for the live partitions while they wait.
      const stuck = [1, 2, 3, 4, 5].map((n) => send(0, 100 + n));
      await sleep(200);
      const live: Awaited<ReturnType<typeof send>>[] = [];
      for (let round = 0; round < 6; round++) {
        live.push(
          ...(await Promise.all(
            [1, 2].flatMap((partition) => [0, 1].map((i) => send(partition, 200 + round * 2 + i))),
          )),
        );
      }
      const stuckAnswers = await Promise.all(stuck);
      acknowledged.push(
        ...before.map((r) => r.key),
        ...live.filter((r) => r.status === 200).map((r) => r.key),
      );
      const times = live.map((r) => r.ms).sort((a, b) => a - b);
      process.stderr.write(
        `\npartition 0 down: ${live.filter((r) => r.status === 200).length}/${live.length} requests for partitions 1 and 2 answered 200, ` +
          `p50=${percentile(times, 0.5)} ms max=${times[times.length - 1]} ms (before: max ${Math.max(...before.map((r) => r.ms))} ms); ` +
          `partition 0: ${stuckAnswers.map((r) => `${r.status} ${String(r.code)} in ${r.ms} ms`).join(', ')}\n`,
      );

      // A service started while the partition has no leader (a new producer, its first metadata) serves the
      // others too: kafkajs failed a whole metadata response on one partition's error (patches/).
      const started = await startApp({ KAFKA_BROKERS: cluster.bootstrap, KAFKA_TOPIC: topic });
      try {
        for (const partition of [1, 2]) {
          const key = keyFor(topic, partition, 300);
          const answer = await post(`${started.url}/api/messages/simple?content=${key}&key=${key}`);
          expect(answer.status).toBe(200);
          acknowledged.push(key);
        }
      } finally {
        await started.close();
      }

      expect(live.map((r) => `${r.partition}:${r.status}`)).toEqual(live.map((r) => `${r.partition}:200`));
      expect(live.map((r) => r.body.partition)).toEqual(live.map((r) => r.partition));
      // Not held up by the dead partition: answered far inside the deadline it would otherwise wait out.
      expect(Math.max(...live.map((r) => r.ms))).toBeLessThan(SEND_TIMEOUT_MS / 4);
      for (const answer of stuckAnswers) {
        expect(answer.status).toBe(503);
        expect(DOCUMENTED_503).toContain(answer.code);
        // At the deadline at the latest; a record never sent may hear "not sent" once its attempts are spent.
        expect(answer.ms).toBeLessThan(SEND_TIMEOUT_MS + 1000);
      }
    } finally {
      await running.close();
      await localKafka.restartNode({ name, id: 1 });
    }
    // Every acknowledged record is on the topic exactly once (read back with kcat, once node 1 is back).
    expect(await notOnTheTopicOnce(topic, acknowledged)).toEqual([]);
  }, 120_000);

  it('two of three nodes killed: no 200 without the in-sync replicas, the documented 503, recovery after their restart', async () => {
    // A shorter send deadline keeps the outage short; the mechanism is the same.
    const sendTimeoutMs = 4000;
    let probes: Promise<{ status: number; code: unknown; ms: number }[]> = Promise.resolve([]);
    let backAt = 0;
    const scenario = await underLoad(
      'failover-quorum',
      async (topic, url) => {
        const leader = await leaderOf(topic);
        const other = [1, 2, 3].find((id) => id !== leader)!;
        await Promise.all([
          localKafka.killNode({ name, id: leader }),
          localKafka.killNode({ name, id: other }),
        ]);
        // Requests begun now, with the quorum and the in-sync replicas gone (the load's own callers are
        // still waiting on requests begun before the kill).
        probes = Promise.all(
          Array.from({ length: 5 }, async (_, i) => {
            const began = Date.now();
            const answer = await post(`${url}/api/messages`, { content: `during the outage ${i}` });
            return { status: answer.status, code: answer.body.code, ms: Date.now() - began };
          }),
        );
        await probes;
        await sleep(500);
        await Promise.all([
          localKafka.restartNode({ name, id: leader }),
          localKafka.restartNode({ name, id: other }),
        ]);
        backAt = Date.now();
        await sleep(3000);
      },
      sendTimeoutMs,
    );

    for (const probe of await probes) {
      expect(probe.status).toBe(503);
      expect(DOCUMENTED_503).toContain(probe.code);
      expect(probe.ms).toBeLessThan(sendTimeoutMs + 500);
    }
    const { result } = scenario;
    expect(undocumentedFailures(scenario)).toEqual([]);
    expect(lostAcks(scenario)).toEqual([]);
    expect(duplicates(scenario)).toEqual([]);
    // Bounded even without a quorum: every caller is answered within the send deadline.
    expect(Math.max(...result.timeline.map((t) => t.at - t.startedAt))).toBeLessThan(sendTimeoutMs + 500);
    // Recovered without a restart of the service: 200s again after the nodes came back.
    expect(result.timeline.some((t) => t.startedAt > backAt && t.status === 200)).toBe(true);
  }, 120_000);
});
