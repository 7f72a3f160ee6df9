import { ensureTools } from '../../scripts/ensure-tools';
import * as localKafka from '../../scripts/kafka/local-kafka';

/** The broker this run starts (its state lives in .run/kafka-<name>); global teardown stops it. */
const TEST_BROKER_NAME = process.env.KAFKA_TEST_BROKER_NAME ?? 'test';

/**
 * Starts a real single-node Kafka for the whole run, unless KAFKA_BROKERS already names a cluster (then it
 * must answer). Either way the tests read the address from KAFKA_BROKERS. Never skips: no broker, no run.
 */
export default async function globalSetup(): Promise<void> {
  // kcat, prometheus, openssl, chromium, redis-server, java, maven: installed with apt-get if missing, else a loud stop.
  ensureTools();
  const given = process.env.KAFKA_BROKERS;
  if (given) {
    if (!(await localKafka.answers(given, 15000))) {
      throw new Error(`KAFKA_BROKERS=${given} is set, but no Kafka broker answers there`);
    }
    return;
  }
  // Kill the broker even if Jest dies without running the teardown (Ctrl-C, crash).
  process.once('exit', () => localKafka.killNow(TEST_BROKER_NAME));
  const started = await localKafka.start({ name: TEST_BROKER_NAME, quiet: true });
  process.env.KAFKA_BROKERS = started.bootstrap;
  process.env.KAFKA_TEST_BROKER_STARTED = TEST_BROKER_NAME;
  process.stderr.write(
    `\nKafka ${localKafka.kafkaVersion()} test broker at ${started.bootstrap} (started in ${started.startedInMs} ms)\n`,
  );
}
