import { validateEnvironment } from './environment';

describe(validateEnvironment.name, () => {
  it("uses the seed's defaults when nothing is set", () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      PORT: 8080,
      KAFKA_BROKERS: ['localhost:29092'],
      KAFKA_TOPIC: 'demo-topic',
      KAFKA_TOPIC_PARTITIONS: 3,
      KAFKA_TOPIC_RETENTION_MS: 604800000,
      KAFKA_PRODUCER_COMPRESSION: 'snappy',
      KAFKA_PRODUCER_BATCH_SIZE: 16384,
    });
  });

  it('names every bad variable and the reason', () => {
    expect(() =>
      validateEnvironment({
        PORT: 'eighty',
        KAFKA_BROKERS: 'localhost',
        KAFKA_PRODUCER_COMPRESSION: 'brotli',
      }),
    ).toThrow(
      /PORT="eighty".*\n.*KAFKA_BROKERS="localhost": KAFKA_BROKERS must be host:port.*\n.*KAFKA_PRODUCER_COMPRESSION="brotli"/s,
    );
  });

  it('reads lists and booleans from strings', () => {
    const env = validateEnvironment({
      KAFKA_BROKERS: 'a:1, b:2',
      MESSAGE_TYPES: 'INFO,AUDIT',
      KAFKA_SSL_ENABLED: 'yes',
    });
    expect(env.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(env.MESSAGE_TYPES).toEqual(['INFO', 'AUDIT']);
    expect(env.KAFKA_SSL_ENABLED).toBe(true);
  });

  it('refuses a CloudEvents routing entry without a valid topic, naming the variable', () => {
    expect(() =>
      validateEnvironment({ CLOUDEVENTS_TYPE_TOPICS: 'com.example.a=ok,com.example.b=bad topic' }),
    ).toThrow(/CLOUDEVENTS_TYPE_TOPICS=.*must be type=topic/);
    expect(() => validateEnvironment({ CLOUDEVENTS_TYPE_TOPICS: 'no-topic' })).toThrow(
      /CLOUDEVENTS_TYPE_TOPICS/,
    );
  });
});
