/** Injection tokens for the kafkajs clients built by KafkaModule. */
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const KAFKA_ADMIN = Symbol('KAFKA_ADMIN');
