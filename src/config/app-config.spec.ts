import { AppConfig } from './app-config';
import { validateEnvironment } from './environment';

const configOf = (env: Record<string, string>): AppConfig => new AppConfig(validateEnvironment(env));

describe(AppConfig.name, () => {
  describe('provisionedTopics', () => {
    it('are the message topic, the feedback topic and its dead-letter topic, with the configured shape', () => {
      const config = configOf({
        KAFKA_TOPIC: 'orders',
        KAFKA_FEEDBACK_TOPIC: 'replies',
        KAFKA_TOPIC_PARTITIONS: '6',
        KAFKA_TOPIC_REPLICATION_FACTOR: '1',
      });

      expect(config.provisionedTopics.map((topic) => topic.name)).toEqual([
        'orders',
        'replies',
        'replies.DLT',
      ]);
      expect(config.provisionedTopics.every((topic) => topic.partitions === 6)).toBe(true);
      expect(config.provisionedTopics[0]?.configs).toEqual({
        'retention.ms': '604800000',
        'min.insync.replicas': '1',
      });
    });

    it('name the dead-letter topic FEEDBACK_DLT_TOPIC when set', () => {
      const config = configOf({ FEEDBACK_DLT_TOPIC: 'poison' });

      expect(config.provisionedTopics.map((topic) => topic.name)).toEqual([
        'demo-topic',
        'feedback-topic',
        'poison',
      ]);
    });

    it('leave the dead-letter topic out when the feedback consumer is disabled', () => {
      const config = configOf({ FEEDBACK_CONSUMER_ENABLED: 'false' });

      expect(config.provisionedTopics.map((topic) => topic.name)).toEqual(['demo-topic', 'feedback-topic']);
    });
  });

  describe('idempotency.store', () => {
    it('is absent without IDEMPOTENCY_STORE_URL: keys stay in memory', () => {
      expect(configOf({}).idempotency.store).toBeUndefined();
    });

    it('takes its lease from SEND_TIMEOUT_MS plus 5 s and its prefix from APP_NAME unless they are set', () => {
      expect(
        configOf({
          IDEMPOTENCY_STORE_URL: 'rediss://app:pw@redis:6380',
          APP_NAME: 'orders',
          SEND_TIMEOUT_MS: '8000',
        }).idempotency.store,
      ).toEqual({
        url: 'rediss://app:pw@redis:6380',
        ca: undefined,
        prefix: 'orders:idempotency:',
        timeoutMs: 500,
        leaseMs: 13000,
        inReadiness: false,
      });
      expect(
        configOf({
          IDEMPOTENCY_STORE_URL: 'redis://redis',
          IDEMPOTENCY_STORE_PREFIX: 'p:',
          IDEMPOTENCY_LEASE_MS: '20000',
          IDEMPOTENCY_STORE_IN_READINESS: 'true',
        }).idempotency.store,
      ).toMatchObject({ prefix: 'p:', leaseMs: 20000, inReadiness: true });
    });

    it('refuses a store URL that is not redis:// or rediss://, naming the variable', () => {
      expect(() => configOf({ IDEMPOTENCY_STORE_URL: 'http://redis:6379' })).toThrow(
        /IDEMPOTENCY_STORE_URL=/,
      );
    });
  });
});
