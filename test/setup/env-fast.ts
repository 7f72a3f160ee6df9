// The broker-free tier: Kafka is unreachable on purpose (nothing listens on port 1), whatever broker the
// e2e tier's global setup started, so a test here that needed Kafka would fail. The app still starts and
// answers: producers connect in the background and topic provisioning retries; their errors are expected,
// so only fatal log lines are shown.
process.env.KAFKA_BROKERS = '127.0.0.1:1';
process.env.LOG_LEVEL = 'fatal';
