import { Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import { KafkaModule } from './kafka/kafka.module';

@Module({
  imports: [ConfigModule, KafkaModule],
})
export class AppModule {}
