import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Admin,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from 'kafkajs';
import * as localKafka from '../scripts/kafka/local-kafka';
import { RunningApp, startApp } from './support/app';
import { expectErrorShape, get, post } from './support/http';
import { SecureBroker, startSecureBroker, USERS } from './support/secure-broker';

const allow = (
  principal: string,
  resourceType: AclResourceTypes,
  resourceName: string,
  operation: AclOperationTypes,
  pattern = ResourcePatternTypes.LITERAL,
) => ({
  principal,
  host: '*',
  resourceType,
  resourceName,
  resourcePatternType: pattern,
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

describe('Kafka security: SASL_SSL (SCRAM over TLS) and ACLs, on a broker with an authorizer', () => {
  const name = `secure-${process.pid}`;
  let broker: SecureBroker;
  let admin: Admin;
  const apps: RunningApp[] = [];

  const secureApp = (
    user: string,
    password: string,
    mechanism = 'scram-sha-512',
    extra: Record<string, string> = {},
  ) =>
    startApp({
      KAFKA_BROKERS: broker.saslSsl,
      KAFKA_SSL_ENABLED: 'true',
      KAFKA_SSL_CA_FILE: broker.caFile,
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD: password,
      KAFKA_PRODUCER_RETRY_BACKOFF_MS: '100',
      ...extra,
    }).then((app) => {
      apps.push(app);
      return app;
    });

  beforeAll(async () => {
    broker = await startSecureBroker(name);
    admin = new Kafka({
      clientId: 'e2e-super',
      brokers: [broker.plaintext],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: ['demo-topic', 'feedback-topic'].map((topic) => ({ topic, numPartitions: 3 })),
    });
    await admin.createAcls({
      acl: [
        ...['demo-topic', 'feedback-topic'].flatMap((topic) => [
          allow('User:writer', AclResourceTypes.TOPIC, topic, AclOperationTypes.WRITE),
          allow('User:writer', AclResourceTypes.TOPIC, topic, AclOperationTypes.DESCRIBE),
        ]),
        allow(
          'User:writer',
          AclResourceTypes.TRANSACTIONAL_ID,
          'kafka-producer-service-tx-',
          AclOperationTypes.WRITE,
          ResourcePatternTypes.PREFIXED,
        ),
        allow(
          'User:writer',
          AclResourceTypes.TRANSACTIONAL_ID,
          'kafka-producer-service-tx-',
          AclOperationTypes.DESCRIBE,
          ResourcePatternTypes.PREFIXED,
        ),
        // The reader may see the topic, not write to it.
        allow('User:reader', AclResourceTypes.TOPIC, 'demo-topic', AclOperationTypes.DESCRIBE),
      ],
    });
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) {
      await app.close();
    }
    await admin?.disconnect();
    await localKafka.stop({ name });
  });

  it.each(['scram-sha-512', 'scram-sha-256', 'plain'])(
    'publishes through TLS with SASL %s',
    async (mechanism) => {
      const app = await secureApp('writer', USERS.writer, mechanism);
      const single = await post<{ partition: number; offset: number }>(`${app.url}/api/messages`, {
        content: `over ${mechanism}`,
      });
      expect(single.status).toBe(200);
      const batch = await post(`${app.url}/api/messages/batch`, [{ content: 'tx 1' }, { content: 'tx 2' }]);
      expect(batch.status).toBe(200);

      const [offsets] = await admin
        .fetchTopicOffsets('demo-topic')
        .then((all) => all.filter((p) => p.partition === single.body.partition));
      expect(Number(offsets?.high)).toBeGreaterThan(single.body.offset);
    },
  );

  it('gives a principal without WRITE on the topic a clear 403 at once, not a retry storm', async () => {
    const app = await secureApp('reader', USERS.reader);
    const began = Date.now();
    const result = await post(`${app.url}/api/messages`, { content: 'not allowed' });

    expect(result.status).toBe(403);
    expectErrorShape(result.body, 403);
    expect(result.body.code).toBe('KAFKA_NOT_AUTHORIZED');
    expect(result.body.message).toMatch(/not authorized to write to demo-topic/);
    expect(Date.now() - began).toBeLessThan(5000);
  });

  it('reports a wrong password clearly (send and health), without hanging', async () => {
    // Health details (Kafka's error text) shown without an API key: this file configures none.
    const app = await secureApp('writer', 'wrong-password', undefined, { HEALTH_SHOW_DETAILS: 'always' });
    const result = await post(`${app.url}/api/messages`, { content: 'bad credentials' });

    expect(result.status).toBe(503);
    expect(result.body.code).toBe('KAFKA_AUTHENTICATION_FAILED');
    expect(result.body.message).toMatch(/SASL authentication failed/);
    const health = await get<{
      status: string;
      components: Record<string, { status: string; details?: unknown }>;
    }>(`${app.url}/actuator/health`);
    expect(health.status).toBe(503);
    expect(health.body.components.kafka?.status).toBe('DOWN');
    expect(JSON.stringify(health.body.components.kafka)).toMatch(/authentication/i);
    expect(JSON.stringify(health.body)).not.toContain('wrong-password');
  });

  it('never shows the SASL password in /actuator/info', async () => {
    const app = await secureApp('writer', USERS.writer);
    const info = await get(`${app.url}/actuator/info`);
    expect(info.status).toBe(200);
    expect(JSON.stringify(info.body)).not.toContain(USERS.writer);
  });
});
