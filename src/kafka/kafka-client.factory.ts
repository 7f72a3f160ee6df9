import { Logger } from '@nestjs/common';
import { Kafka, KafkaConfig, logLevel, LogEntry } from 'kafkajs';
import { AppConfig } from '../config/app-config';

const kafkaLogger = new Logger('kafkajs');

/** Routes kafkajs' own log lines into the service's logger, at the same level. */
function logCreator(): (entry: LogEntry) => void {
  return ({ level, log }) => {
    const { message, ...extra } = log;
    const line = `${message} ${JSON.stringify(extra)}`;
    switch (level) {
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
    // Set explicitly: kafkajs' defaults differ under NODE_ENV=test (no retries), and production is what we test.
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 5, multiplier: 2, factor: 0.2 },
  };
}

export function createKafkaClient(config: AppConfig): Kafka {
  return new Kafka(kafkaClientOptions(config));
}
