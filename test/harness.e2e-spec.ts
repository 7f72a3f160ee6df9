import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { Kafka } from 'kafkajs';
import { AppModule } from '../src/app.module';
import { KAFKA_CLIENT } from '../src/kafka/kafka.constants';
import { kcatRead } from './support/kcat';

describe('the test harness (real broker, independent reader)', () => {
  it("reads back with kcat the key, value and headers the app's kafkajs client produced", async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const kafka = moduleRef.get<Kafka>(KAFKA_CLIENT);
    const topic = `harness-${randomUUID()}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.connect();
      const [ack] = await producer.send({
        topic,
        acks: -1,
        messages: [{ key: 'the-key', value: '{"hello":"kafka"}', headers: { 'x-request-id': 'req-1' } }],
      });

      const [record] = kcatRead(topic, 0, Number(ack?.baseOffset));
      expect(record).toMatchObject({
        topic,
        partition: 0,
        key: 'the-key',
        payload: '{"hello":"kafka"}',
        headers: { 'x-request-id': 'req-1' },
      });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
      await moduleRef.close();
    }
  });
});
