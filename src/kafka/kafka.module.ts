import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { createKafkaClient } from './kafka-client.factory';
import { KAFKA_CLIENT } from './kafka.constants';

/**
 * Owns kafkajs: the client, the producers, the admin and consumer creation. The only module that imports
 * kafkajs; the rest of the service talks to the providers it exports.
 */
@Module({
  providers: [{ provide: KAFKA_CLIENT, inject: [AppConfig], useFactory: createKafkaClient }],
  exports: [KAFKA_CLIENT],
})
export class KafkaModule {}
