import { Logger } from '@nestjs/common';
import { Kafka, KafkaConfig, logLevel, LogEntry } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { SEND_ATTEMPT_RETRY } from './kafka.constants';

const kafkaLogger = new Logger('kafkajs');

/** Routes kafkajs' own log lines into the service's logger, at the same level. */
function logCreator(): (entry: LogEntry) => void {
  return ({ namespace, level, log }) => {
    const { message, ...extra } = log;
    // Deliberate: the service bounds kafkajs' retries and retries sends itself (see SEND_ATTEMPT_RETRY).
    if (message.startsWith('Limiting retries for the idempotent producer')) {
      return;
    }
    const line = `${message} ${JSON.stringify(extra)}`;
    // kafkajs logs retriable trouble (coordinator loading, a refused connection) as errors and retries it;
    // the service logs the outcome that matters (a failed send) once, as an error, itself.
    const effective =
      level === logLevel.ERROR && ['Connection', 'BrokerPool', 'Cluster'].includes(namespace)
        ? logLevel.WARN
        : level;
    switch (effective) {
      case logLevel.ERROR:
        kafkaLogger.error(line);
        break;
      case logLevel.WARN:
        kafkaLogger.warn(line);
        break;
      case logLevel.INFO:
        kafkaLogger.log(line);
        break;
      default:
        kafkaLogger.debug(line);
    }
  };
}

/** The kafkajs client options for this service: brokers, timeouts, TLS and SASL from configuration. */
export function kafkaClientOptions(config: AppConfig): KafkaConfig {
  const { kafka } = config;
  return {
    clientId: kafka.clientId,
    brokers: kafka.brokers,
    connectionTimeout: kafka.connectionTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    ssl: kafka.ssl,
    sasl: kafka.sasl as KafkaConfig['sasl'],
    logLevel: logLevel.WARN,
    logCreator,
    // Set explicitly: kafkajs' defaults differ under NODE_ENV=test, and production is what we test. Short,
    // because the service's own retry (ProducerService) owns the backoff between send attempts.
    retry: SEND_ATTEMPT_RETRY,
  };
}

export function createKafkaClient(config: AppConfig, overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ ...kafkaClientOptions(config), ...overrides });
}
