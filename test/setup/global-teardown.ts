import * as localKafka from '../../scripts/kafka/local-kafka';

export default async function globalTeardown(): Promise<void> {
  const name = process.env.KAFKA_TEST_BROKER_STARTED;
  if (name) {
    await localKafka.stop({ name });
  }
}
