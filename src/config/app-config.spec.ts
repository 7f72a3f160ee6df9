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
});
